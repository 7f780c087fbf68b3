// Everything the daemon sends is printed to a terminal by `status`, `top` and `doctor`.
// Names, remote addresses and messages can carry bytes from the network or from whoever
// answers on the socket, and a raw ESC or C1 byte there would drive the reader's terminal
// (retitle it, rewrite the screen, in old emulators even inject input). So control
// characters are removed from every string before anything else sees it.

// C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}

/** A deep copy of a parsed JSON value with every string (keys too) stripped of control characters. */
export function sanitizeJson<T>(value: T): T {
  return clean(value, 0) as T;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return stripControl(value);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[stripControl(k)] = clean(v, depth + 1);
  return out;
}
