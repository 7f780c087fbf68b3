// The write endpoints: send a frame, kick a client, reload the configuration (and switch an
// output, when the house decoder runs). They exist only while a token hash is configured
// (--http-token-hash); without one every POST is 404, as if there were none.
//
// CSRF: the token travels in the Authorization header, which a page on another origin cannot
// set without a CORS preflight this server never grants; no cookie is involved, and a body
// must be application/json (which a plain HTML form cannot send either). Each write and
// each refusal is counted and logged with the source address.
import type http from 'node:http';
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_SFF_MASK, type CanFrame } from '../core/frame.js';
import type { LogFn } from '../core/log-fn.js';
import { hostKey } from '../guard/address-list.js';
import { idAllowed, type IdMask } from '../guard/id-mask.js';
import { sendJson } from './respond.js';
import type { TokenChecker } from '../guard/web-token.js';

export interface WriteActions {
  busNames(): readonly string[];
  send(bus: number, frame: CanFrame): { ok: true } | { ok: false; reason: string };
  kick(id: number): boolean;
  /** Re-reads the configuration as SIGHUP does; returns the names of what changed. */
  reload(): string[] | Promise<string[]>;
  /** --tx-ids: the IDs clients may send (the page is a client too). */
  txIds(): readonly IdMask[];
  /** Extra write endpoints (the house decoder's `output`); null = no such endpoint. */
  extra?(name: string, body: Record<string, unknown>): Promise<{ status: number; result: Record<string, unknown> } | null>;
}

const MAX_BODY = 4096;

export class Writes {
  done = 0;
  refused = 0;

  constructor(
    private readonly token: TokenChecker,
    private readonly actions: WriteActions,
    private readonly log: LogFn,
  ) {}

  get enabled(): boolean {
    return this.token.configured;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    const remote = hostKey(req.socket.remoteAddress);
    if (!this.enabled) {
      sendJson(res, 404, { error: 'not found: writes are off (no --http-token-hash configured; `sudo ampio-bridge setup --http-token new` makes one)' });
      req.resume();
      return;
    }
    const refuse = (status: number, error: string, reason: string): void => {
      this.refused++;
      this.log('warn', 'web_write_refused', { remote, action: name, reason });
      sendJson(res, status, { error });
    };
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!auth || !(await this.token.check(auth[1]))) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="ampio-bridge"');
      refuse(401, 'a valid write token is needed (Authorization: Bearer <token>)', auth ? 'bad_token' : 'no_token');
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      refuse(415, 'send the body as application/json', 'content_type');
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (err) {
      refuse(400, (err as Error).message, 'bad_body');
      return;
    }
    const r = await this.act(name, body);
    if (r.status >= 400) {
      refuse(r.status, String(r.result.error), String(r.result.reason ?? 'invalid'));
      return;
    }
    this.done++;
    this.log('info', 'web_write', { remote, action: name, ...flat(body) });
    sendJson(res, r.status, r.result);
  }

  private async act(name: string, body: Record<string, unknown>): Promise<{ status: number; result: Record<string, unknown> }> {
    switch (name) {
      case 'send':
        return this.sendFrame(body);
      case 'kick': {
        const id = Number(body.id);
        if (!Number.isInteger(id) || id <= 0) return { status: 400, result: { error: 'id must be a client id (a whole number)' } };
        return this.actions.kick(id) ? { status: 200, result: { kicked: id } } : { status: 404, result: { error: `no client ${id}`, reason: 'no_client' } };
      }
      case 'reload':
        try {
          return { status: 200, result: { changed: await this.actions.reload() } };
        } catch (err) {
          return { status: 409, result: { error: (err as Error).message, reason: 'config_invalid' } };
        }
      default: {
        const extra = await this.actions.extra?.(name, body);
        return extra ?? { status: 404, result: { error: `no write endpoint /api/${name}`, reason: 'unknown' } };
      }
    }
  }

  private sendFrame(body: Record<string, unknown>): { status: number; result: Record<string, unknown> } {
    const names = this.actions.busNames();
    const busName = typeof body.bus === 'string' && body.bus !== '' ? body.bus : names[0];
    const bus = names.indexOf(busName);
    if (bus < 0) return { status: 400, result: { error: `no bus "${String(body.bus)}" (buses: ${names.join(', ')})` } };
    const idText = String(body.id ?? '')
      .trim()
      .replace(/^0x/i, '');
    if (!/^[0-9a-fA-F]{1,8}$/.test(idText)) return { status: 400, result: { error: 'id must be hex, like 1d0 or 0f000000' } };
    const raw = Number.parseInt(idText, 16);
    const extended = raw > CAN_SFF_MASK || idText.length === 8 || body.extended === true;
    if (raw > CAN_EFF_MASK) return { status: 400, result: { error: 'id has more than 29 bits' } };
    const dataText = String(body.data ?? '').replace(/[\s:.]/g, '');
    if (!/^([0-9a-fA-F]{2}){0,8}$/.test(dataText)) return { status: 400, result: { error: 'data must be 0 to 8 bytes of hex, like 0102ff' } };
    const id = extended ? (raw | CAN_EFF_FLAG) >>> 0 : raw;
    if (!idAllowed(this.actions.txIds(), id)) return { status: 403, result: { error: 'this ID is outside --tx-ids', reason: 'id_not_allowed' } };
    const data = Uint8Array.from(Buffer.from(dataText, 'hex'));
    const r = this.actions.send(bus, { id, len: data.length, data, fd: false, fdFlags: 0, timestamp: 0 });
    if (!r.ok) return { status: 503, result: { error: `the bus refused the frame: ${r.reason}`, reason: r.reason } };
    return { status: 200, result: { sent: { bus: busName, id: raw, extended, data: dataText.toLowerCase() } } };
  }
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('the body must be a JSON object');
        resolve(v as Record<string, unknown>);
      } catch (err) {
        reject(new Error(`the body is not JSON: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/** The body's plain fields for the log line (never the token: it is a header). */
function flat(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v === null || typeof v !== 'object') out[k] = String(v).slice(0, 64);
  return out;
}
