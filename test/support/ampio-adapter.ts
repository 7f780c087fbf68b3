// A small emulator of the Ampio USB-serial CAN adapter behind a REAL pseudo-terminal:
//
//   backend ──(serialport)── PTY at `linkPath` ══ socat ══ TCP 127.0.0.1 ── this emulator
//
// socat owns the PTY and the symlink at `linkPath` (like udev's /dev/serial/by-id link).
// Killing socat closes the PTY and removes the symlink: the device vanished. Starting a
// new socat with the same link: the device reappeared, on a new /dev/pts/N.
//
// The frame encoder here is written from the wire format independently of
// src/core/serial-codec.ts, so a bug there cannot hide in both.
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import net from 'node:net';
import { requireHostTools } from './host-tools.js';

/** adapter → host: 2D D4 LEN=n+5 ID[4] data CHK; CHK = LEN + 0x2D + Σ(ID, data). */
export function adapterRxBytes(id29: number, data: ArrayLike<number>): Buffer {
  const body = [(id29 >>> 24) & 0xff, (id29 >>> 16) & 0xff, (id29 >>> 8) & 0xff, id29 & 0xff, ...Array.from(data)];
  const len = body.length + 1;
  let sum = len + 0x2d;
  for (const b of body) sum += b;
  return Buffer.from([0x2d, 0xd4, len, ...body, sum & 0xff]);
}

/** host → adapter frames as the adapter parses them (for byte-for-byte checks). */
export interface ParsedTx {
  id: number;
  data: number[];
  raw: string;
}

/** Splits the bytes the host sent into TX frames; throws on anything malformed. */
export function parseHostBytes(bytes: Buffer): ParsedTx[] {
  const out: ParsedTx[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (bytes[p] !== 0x2d || bytes[p + 1] !== 0xd4) throw new Error(`no preamble at ${p}: ${bytes.subarray(p).toString('hex')}`);
    const len = bytes[p + 2];
    const total = len + 3;
    if (p + total > bytes.length) throw new Error(`truncated frame at ${p}`);
    const f = bytes.subarray(p, p + total);
    if (f[3] !== 0x02) throw new Error(`INS ${f[3]} is not 02`);
    const n = f[4] - 0x80;
    if (n !== len - 7 || n < 0 || n > 8) throw new Error(`FLAGS ${f[4]} does not match LEN ${len}`);
    let sum = 0x2d;
    for (let i = 2; i < total - 1; i++) sum += f[i];
    if ((sum & 0xff) !== f[total - 1]) throw new Error(`bad CHK in ${f.toString('hex')}`);
    out.push({ id: f.readUInt32BE(5), data: Array.from(f.subarray(9, 9 + n)), raw: f.toString('hex') });
    p += total;
  }
  return out;
}

export class AdapterEmulator {
  /** Every byte the host wrote, across plug cycles. */
  received = Buffer.alloc(0);
  private server: net.Server;
  private socket: net.Socket | null = null;
  private readonly sockets = new Set<net.Socket>();
  private socat: ChildProcess | null = null;
  private waiters: Array<() => void> = [];
  private connectWaiters: Array<(s: net.Socket) => void> = [];

  private constructor(
    readonly linkPath: string,
    server: net.Server,
  ) {
    this.server = server;
    server.on('connection', (s) => {
      this.socket = s;
      this.sockets.add(s);
      s.on('data', (d) => {
        this.received = Buffer.concat([this.received, d]);
        for (const w of this.waiters.splice(0)) w();
      });
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        if (this.socket === s) this.socket = null;
      });
      for (const w of this.connectWaiters.splice(0)) w(s);
    });
  }

  static async start(linkPath: string, opts: { plugged?: boolean } = {}): Promise<AdapterEmulator> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const emu = new AdapterEmulator(linkPath, server);
    if (opts.plugged ?? true) await emu.plug();
    return emu;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get plugged(): boolean {
    return this.socat !== null;
  }

  /** Creates the PTY and the symlink; resolves once both exist and the link is connected. */
  async plug(): Promise<void> {
    if (this.socat) throw new Error('already plugged');
    const connected = new Promise<net.Socket>((resolve) => this.connectWaiters.push(resolve));
    requireHostTools('socat');
    const child = spawn('socat', [`PTY,link=${this.linkPath},raw,echo=0`, `TCP:127.0.0.1:${this.port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    this.socat = child;
    const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`socat exited (${code}) during plug: ${stderr}`))));
    await Promise.race([Promise.all([connected, waitForPath(this.linkPath, 5000)]), failed]);
  }

  /** Kills socat: the PTY closes and the symlink disappears, like a USB unplug. */
  async unplug(): Promise<void> {
    const child = this.socat;
    if (!child) return;
    this.socat = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // in case it was frozen: a stopped process cannot act on SIGTERM
    child.kill('SIGTERM');
    await exited;
    await waitForPathGone(this.linkPath, 5000);
  }

  /** Writes raw bytes towards the host, optionally in chunks with a pause between them. */
  async sendRaw(bytes: Uint8Array, chunk = 0, pauseMs = 2): Promise<void> {
    const s = this.socket;
    if (!s) throw new Error('not plugged');
    if (chunk <= 0) {
      s.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += chunk) {
      s.write(bytes.subarray(i, i + chunk));
      await sleep(pauseMs);
    }
  }

  async sendFrame(id29: number, data: ArrayLike<number>): Promise<void> {
    await this.sendRaw(adapterRxBytes(id29, data));
  }

  /**
   * Freezes / thaws the adapter side (SIGSTOP/SIGCONT to our own socat): nothing drains
   * the PTY, so the host's writes back up as on a stalled adapter.
   */
  freeze(): void {
    if (this.socat?.pid) process.kill(this.socat.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.socat?.pid) process.kill(this.socat.pid, 'SIGCONT');
  }

  /** Resolves once at least `n` bytes arrived from the host in total. */
  async waitForBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`adapter got ${this.received.length} of ${n} bytes: ${this.received.toString('hex')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    await this.unplug();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForPath(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await lstat(path);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${path} did not appear`);
      await sleep(10);
    }
  }
}

async function waitForPathGone(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await lstat(path);
      if (Date.now() > deadline) throw new Error(`${path} did not go away`);
      await sleep(10);
    } catch {
      return;
    }
  }
}
