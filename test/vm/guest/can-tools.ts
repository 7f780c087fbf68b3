// Guest-side helpers for the VM suite: can-utils (cansend, cangen, candump) as independent
// peers, `ip`/`tc` for faults, and the result-line protocol the host test parses.
// Runs only where real SocketCAN exists (inside test/vm/canvm.sh, or natively with vcan).
import { execFileSync, spawn } from 'node:child_process';

/** Runs a shell command (ip, tc, cansend); throws with its stderr on failure. */
export function sh(cmd: string): string {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd}: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * candump-style canonical text for comparisons (both sides are normalised to this):
 * `123#DEADBEEF`, `1ABCDEF0#`, `123#R` / `123#R3`, `123##<data>` for FD (flags compared
 * separately: the binding does not report received FD flags).
 */
export function canonical(id: number, ext: boolean, opts: { rtr?: boolean; len?: number; fd?: boolean; data?: Uint8Array | Buffer }): string {
  const idText = ext ? (id & 0x1fffffff).toString(16).toUpperCase().padStart(8, '0') : (id & 0x7ff).toString(16).toUpperCase().padStart(3, '0');
  if (opts.rtr) return `${idText}#R${opts.len ? opts.len : ''}`;
  const hex = Buffer.from(opts.data ?? [])
    .toString('hex')
    .toUpperCase();
  return opts.fd ? `${idText}##${hex}` : `${idText}#${hex}`;
}

export interface DumpLine {
  /** Kernel receive time, µs since the epoch. */
  tsUs: number;
  iface: string;
  text: string;
  /** FD flags nibble as candump printed it; null for classic frames. */
  fdFlags: number | null;
  error: boolean;
}

/** Parses `candump -L` lines: `(1700000000.123456) vcan0 123#DEADBEEF`. */
export function parseDump(out: string): DumpLine[] {
  const lines: DumpLine[] = [];
  for (const raw of out.split('\n')) {
    const m = /^\((\d+)\.(\d{6})\)\s+(\S+)\s+([0-9A-Fa-f]+)(##|#)(.*)$/.exec(raw.trim());
    if (!m) continue;
    const [, sec, usec, iface, idHex, sep, rest] = m;
    const ext = idHex.length === 8;
    const idNum = Number.parseInt(idHex, 16);
    const error = ext && (idNum & 0x20000000) !== 0;
    let text: string;
    let fdFlags: number | null = null;
    if (sep === '##') {
      fdFlags = Number.parseInt(rest[0], 16);
      text = canonical(idNum, ext, { fd: true, data: Buffer.from(rest.slice(1), 'hex') });
    } else if (rest.startsWith('R')) {
      const len = rest.length > 1 ? Number.parseInt(rest.slice(1), 16) : 0;
      text = canonical(idNum, ext, { rtr: true, len });
    } else {
      text = canonical(idNum, ext, { data: Buffer.from(rest, 'hex') });
    }
    lines.push({ tsUs: Number(sec) * 1_000_000 + Number(usec), iface, text, fdFlags, error });
  }
  return lines;
}

/** A running `candump -L` (an independent observer of the bus). */
export class Candump {
  private out = '';
  private readonly child;
  private readonly exited: Promise<void>;

  private constructor(args: string[]) {
    this.child = spawn('candump', ['-L', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Starts candump on `ifaces` and waits until its sockets are bound. */
  static async start(...ifaces: string[]): Promise<Candump> {
    const c = new Candump(ifaces);
    // candump binds within a few ms on a host; under TCG give it more.
    await sleep(400);
    return c;
  }

  lines(): DumpLine[] {
    return parseDump(this.out);
  }

  async waitFor(n: number, timeoutMs: number, what = 'candump lines'): Promise<DumpLine[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines().length < n) {
      if (Date.now() > deadline) throw new Error(`candump saw ${this.lines().length} of ${n} ${what}`);
      await sleep(20);
    }
    return this.lines();
  }

  async stop(): Promise<DumpLine[]> {
    this.child.kill('SIGINT');
    await this.exited;
    return this.lines();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  details: Record<string, unknown>;
  error?: string;
}

/** One line per check on stdout; the host test parses these. */
export function report(r: CheckResult): void {
  process.stdout.write(`@@check ${JSON.stringify(r)}\n`);
}

/** Runs named checks in order, reporting each; never throws. Returns whether all passed. */
export async function runChecks(checks: [string, () => Promise<Record<string, unknown>>][], only?: Set<string>): Promise<boolean> {
  let all = true;
  for (const [name, fn] of checks) {
    if (only && !only.has(name)) continue;
    const t0 = performance.now();
    try {
      const details = await fn();
      report({ name, ok: true, ms: Math.round(performance.now() - t0), details });
    } catch (err) {
      all = false;
      const e = err as Error;
      report({ name, ok: false, ms: Math.round(performance.now() - t0), details: {}, error: `${e.message}\n${e.stack ?? ''}` });
    }
  }
  return all;
}

/** Asserts with a message; the guest has no vitest. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export function equalLists(actual: string[], expected: string[], what: string): void {
  if (actual.length !== expected.length || actual.some((a, i) => a !== expected[i])) {
    const firstDiff = actual.findIndex((a, i) => a !== expected[i]);
    throw new Error(
      `${what}: got ${actual.length}, expected ${expected.length}; first difference at ${firstDiff}: ${JSON.stringify(actual.slice(Math.max(0, firstDiff), firstDiff + 3))} vs ${JSON.stringify(expected.slice(Math.max(0, firstDiff), firstDiff + 3))}`,
    );
  }
}

/** Restores a vcan to the suite's baseline: present, up, MTU 72, no qdisc. */
export function resetVcan(name: string): void {
  sh(`ip link show dev ${name} >/dev/null 2>&1 || ip link add dev ${name} type vcan`);
  sh(`tc qdisc del dev ${name} root 2>/dev/null || true`);
  const mtu = sh(`cat /sys/class/net/${name}/mtu`).trim();
  if (mtu !== '72') sh(`ip link set ${name} down && ip link set ${name} mtu 72`);
  sh(`ip link set ${name} up`);
}
