// How the web server answers: every response carries the same security headers (no inline
// script, nothing from elsewhere, never framed) and is never cached unless it says so.
import type http from 'node:http';

/** No inline script or style, nothing from elsewhere, never framed. */
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, head = false, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(head ? undefined : body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, head = false): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head);
}
