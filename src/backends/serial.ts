// `--backend serial`: the Ampio USB-serial CAN adapter through `serialport` (imported
// lazily, here only). Framing: src/core/serial-codec.ts.
//
// Over our ~350-line habit: the open/poll/reopen loop with its backoff and device-identity
// checks lives here. Its planned home is a device supervisor shared with the SocketCAN
// backend; not done yet because the two loops still differ (serial backs off after a loss
// and tracks the device's identity, SocketCAN reopens at once).
//
// Faults it survives without a restart (the Go daemon's serial loop died on the first):
// - the device vanishing (USB reset, cable): seen through the port's close/error events
//   and by watching the device path (serialport does not always report a hang-up: on a
//   PTY whose other side closed, its read loop sees EOF forever and never emits close);
//   state `absent`, queued TX dropped as `link_down`, clients stay connected;
// - while absent the path is polled, so a device that reappears is reopened within one
//   poll interval; failed opens back off 0.5 s → 10 s (reset when the path reappears);
// - garbage, bad lengths and checksums: resync, counted as malformed;
// - a quiet line mid-frame: the read timeout releases what the decoder held back.
import { stat } from 'node:fs/promises';
import { Backoff } from '../core/backoff.js';
import { type CanFrame, frameProblem } from '../core/frame.js';
import { encodeSerialTx, SerialDecoder, serialTxProblem } from '../core/serial-codec.js';
import type { WriteOutcome } from '../core/tx-queue.js';
import { createDeviceTxDriver, type TxDriver } from './tx-driver.js';
import {
  BackendError,
  type BackendCounters,
  type BackendInfo,
  type BackendReloadable,
  type BackendSink,
  type CanBackend,
  type SendResult,
} from './types.js';

/** The part of a serialport SerialPort the backend uses (tests may pass their own). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  readonly writableLength: number;
  on(event: 'data', cb: (chunk: Buffer) => void): unknown;
  on(event: 'close', cb: (err?: Error & { disconnected?: boolean }) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  once(event: 'drain', cb: () => void): unknown;
  removeAllListeners(event?: string): unknown;
  write(chunk: Uint8Array): boolean;
  close(cb?: (err?: Error | null) => void): void;
}

export type OpenPort = (path: string, baudRate: number) => Promise<SerialPortLike>;

/**
 * The timers behind the device-path poll (and so the reopen backoff) and the read timeout.
 * Tests pass a manual clock (with the same clock as `now`) to step through backoff schedules
 * without real waits while the device I/O stays real.
 */
export interface SerialTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// unref'd: neither the poll nor the read timeout may keep a stopping process alive.
const NODE_TIMERS: SerialTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SerialBackendOptions {
  path: string;
  baud: number;
  /** Bus bitrate for bus-load figures (the adapter does not report it). */
  bitrate: number;
  txQueueSize: number;
  txMaxAge: number;
  /** Monotonic ms (also the clock the backoff is measured on: keep it in step with `timers`). */
  now: () => number;
  /** Wall-clock ms since the epoch (RX timestamps). */
  wallClock: () => number;
  /** Poll and read-timeout timers; default: Node's, unref'd. */
  timers?: SerialTimers;
  /** Opens the device; default: serialport, imported on first use. */
  openPort?: OpenPort;
  /**
   * Identity of the device node behind the path (following symlinks), null when it does
   * not exist; default: fs.stat. A different identity while open means the device was
   * replaced (unplugged and plugged back between two polls).
   */
  statDevice?: (path: string) => Promise<string | null>;
  /** Device path poll, ms (default 200), while absent and while open. */
  pollIntervalMs?: number;
  /** Reopen backoff, ms (default 500 → 10000; the Go daemon never reopened at all). */
  reopenInitialMs?: number;
  reopenMaxMs?: number;
  /** Quiet time after which a half-received frame is given up, ms (default 50, as Go). */
  readTimeoutMs?: number;
  /**
   * Bytes allowed in the port's write buffer before the TX queue waits for `drain`. Kept
   * small so frames wait in the TX queue, where the staleness rule still applies.
   */
  writeHighWater?: number;
}

/** Imports serialport; a missing or broken install becomes a BackendError saying what to run. */
async function defaultOpenPortFactory(): Promise<OpenPort> {
  let mod: typeof import('serialport');
  try {
    mod = await import('serialport');
  } catch (err) {
    throw new BackendError(
      'serialport_unavailable',
      `the serial backend cannot load the "serialport" package: ${(err as Error).message}`,
      'reinstall ampio-bridge (npm install -g ampio-bridge), or in its directory run: npm rebuild @serialport/bindings-cpp',
      { cause: err },
    );
  }
  return (path, baudRate) =>
    new Promise((resolve, reject) => {
      const port = new mod.SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => (err ? reject(err) : resolve(port as unknown as SerialPortLike)));
    });
}

async function defaultStatDevice(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    // rdev names the device; ino and ctime change when the node is re-created even if
    // the kernel hands out the same device number again (/dev/ttyUSB0, /dev/pts/3).
    return `${st.rdev}:${st.ino}:${st.ctimeMs}`;
  } catch {
    return null;
  }
}

/** Why an open failed, for the log: the next step a person should take. */
function openFailureHint(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const msg = String((err as Error)?.message ?? err);
  if (code === 'EACCES' || /permission denied/i.test(msg)) {
    return `no permission to open ${path}: add the service user to the dialout group (sudo usermod -aG dialout $USER) or run "ampio-bridge setup"`;
  }
  if (code === 'EBUSY' || /busy|lock/i.test(msg)) return `${path} is in use by another program (another bridge, ModemManager?)`;
  if (code === 'ENOENT' || /no such file/i.test(msg)) return `${path} does not exist: is the adapter plugged in? Prefer the /dev/serial/by-id/ path`;
  return `cannot open ${path}; retrying`;
}

export class SerialBackend implements CanBackend {
  readonly info: BackendInfo;
  private sink: BackendSink | null = null;
  private openPort: OpenPort | null;
  private readonly statDevice: (path: string) => Promise<string | null>;
  /** Identity of the node the open port belongs to. */
  private openIdentity: string | null = null;
  private port: SerialPortLike | null = null;
  private readonly decoder = new SerialDecoder();
  private readonly tx: TxDriver;
  private readonly backoff: Backoff;
  private readonly timers: SerialTimers;
  private pollTimer: unknown = null;
  private readTimer: unknown = null;
  private stopped = false;
  private everOpened = false;
  private reopens = 0;
  private malformedReported = 0;
  /** Monotonic time before which no open is tried unless the path just reappeared. */
  private nextAttemptAt = 0;
  private pathSeen = true;
  private lastHint = '';
  private opening = false;
  /** The port we wait on for `drain`, if any. */
  private drainPort: SerialPortLike | null = null;
  private readonly pollMs: number;
  private readonly readTimeoutMs: number;
  private readonly highWater: number;

  constructor(private readonly opts: SerialBackendOptions) {
    this.info = { kind: 'serial', name: opts.path, fd: false, bitrate: opts.bitrate };
    this.openPort = opts.openPort ?? null;
    this.statDevice = opts.statDevice ?? defaultStatDevice;
    this.timers = opts.timers ?? NODE_TIMERS;
    this.pollMs = opts.pollIntervalMs ?? 200;
    this.readTimeoutMs = opts.readTimeoutMs ?? 50;
    this.highWater = opts.writeHighWater ?? 64;
    this.backoff = new Backoff({ initial: opts.reopenInitialMs ?? 500, max: opts.reopenMaxMs ?? 10_000 });
    this.tx = createDeviceTxDriver({
      capacity: opts.txQueueSize,
      maxAge: opts.txMaxAge,
      now: opts.now,
      write: (f) => this.write(f),
      sink: () => this.sink,
      logFields: { dev: opts.path },
    });
  }

  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    // A missing serialport install can never work: that one rejects start().
    if (!this.openPort) this.openPort = await defaultOpenPortFactory();
    sink.stateChanged('opening', 'unknown', `opening ${this.opts.path}`);
    await this.attempt();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearPoll();
    this.clearReadTimer();
    this.tx.stop('link_down');
    const port = this.port;
    this.port = null;
    if (port) await closeQuietly(port);
    this.sink?.stateChanged('closed', 'stopped', 'stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: number): SendResult {
    return this.tx.offer(frame, origin, this.refusal(frame));
  }

  counters(): BackendCounters {
    const st = this.tx.stats();
    return { txQueueDepth: this.tx.depth, reopens: this.reopens, txBusy: st.busy, txQueueHighWater: st.highWater };
  }

  /** `--tx-max-age` is reloadable (SIGHUP). */
  reconfigure(settings: BackendReloadable): void {
    this.tx.setMaxAge(settings.txMaxAge);
  }

  /** TX queue and decoder statistics (stale drops, busy retries, resync counters). */
  stats() {
    return { tx: this.tx.stats(), decoder: this.decoder.stats() };
  }

  private refusal(frame: CanFrame): 'link_down' | 'fd_unsupported' | 'unsupported' | 'malformed' | null {
    if (frame.fd) return 'fd_unsupported';
    if (frameProblem(frame) !== null) return 'malformed';
    const p = serialTxProblem(frame);
    if (p !== null) return p;
    // Nothing is buffered while the adapter is gone: a command queued
    // during an outage would fire whenever the cable comes back.
    if (!this.port || this.stopped) return 'link_down';
    return null;
  }

  private write(frame: CanFrame): WriteOutcome {
    const port = this.port;
    if (!port || !port.isOpen) return 'down';
    if (port.writableLength > this.highWater) {
      // One listener per stall, however often the queue is pumped meanwhile.
      if (this.drainPort !== port) {
        this.drainPort = port;
        port.once('drain', () => {
          if (this.drainPort === port) this.drainPort = null;
          this.tx.kick();
        });
      }
      return 'wait';
    }
    port.write(encodeSerialTx(frame));
    return 'sent';
  }

  /** One open attempt. */
  private async attempt(): Promise<void> {
    if (this.opening || this.stopped || this.port) return;
    this.opening = true;
    let port: SerialPortLike;
    let identity: string | null = null;
    try {
      identity = await this.statDevice(this.opts.path);
      port = await this.openPort!(this.opts.path, this.opts.baud);
    } catch (err) {
      this.opening = false;
      if (this.stopped) return;
      // No device node: its appearance, not the backoff, triggers the next attempt.
      if (identity === null) this.pathSeen = false;
      const delay = this.backoff.next();
      this.nextAttemptAt = this.opts.now() + delay;
      const hint = openFailureHint(err, this.opts.path);
      // One line per distinct problem, not one per retry.
      if (hint !== this.lastHint) {
        this.lastHint = hint;
        this.sink?.log('warn', 'serial_open_failed', { dev: this.opts.path, error: (err as Error).message, hint, retry_ms: delay });
      }
      this.sink?.stateChanged('absent', 'absent', hint);
      return;
    }
    this.opening = false;
    if (this.stopped) {
      await closeQuietly(port);
      return;
    }
    this.port = port;
    this.openIdentity = identity;
    this.lastHint = '';
    this.backoff.reset();
    this.decoder.reset();
    port.on('data', (chunk) => this.onData(port, chunk));
    port.on('close', (err) => this.onLost(port, err?.message ?? 'closed'));
    port.on('error', (err) => this.onLost(port, err.message));
    if (this.everOpened) this.reopens++;
    this.sink?.log('info', 'serial_open', { dev: this.opts.path, baud: this.opts.baud, reopen: this.everOpened });
    this.everOpened = true;
    // The adapter reports no bus state: "unknown" is the honest answer while it is open.
    this.sink?.stateChanged('open', 'unknown', `${this.opts.path} open`);
    this.tx.kick();
  }

  private onData(port: SerialPortLike, chunk: Buffer): void {
    if (port !== this.port || !this.sink) return;
    const frames = this.decoder.push(chunk, this.opts.wallClock());
    this.deliver(frames);
    // A half frame waits for its rest; if the line goes quiet, give it up (Go: 50 ms read
    // timeout) so a real frame behind a false preamble is not held until the next frame.
    this.clearReadTimer();
    if (this.decoder.pendingBytes > 0) {
      this.readTimer = this.timers.setTimeout(() => {
        this.readTimer = null;
        if (port === this.port) this.deliver(this.decoder.expire(this.opts.wallClock()));
      }, this.readTimeoutMs);
    }
  }

  private deliver(frames: CanFrame[]): void {
    const sink = this.sink;
    if (!sink) return;
    for (const f of frames) sink.received(f);
    const m = this.decoder.stats().malformed;
    if (m > this.malformedReported) {
      sink.malformed(m - this.malformedReported);
      this.malformedReported = m;
    }
  }

  private onLost(port: SerialPortLike, why: string): void {
    if (port !== this.port || this.stopped) return;
    this.port = null;
    this.clearReadTimer();
    // Bytes of a frame cut by the unplug are not a frame.
    this.deliver(this.decoder.expire(this.opts.wallClock()));
    this.decoder.reset();
    port.removeAllListeners('data');
    void closeQuietly(port);
    this.tx.clear('link_down');
    const delay = this.backoff.next();
    this.nextAttemptAt = this.opts.now() + delay;
    this.pathSeen = true;
    this.sink?.log('warn', 'serial_lost', { dev: this.opts.path, error: why, retry_ms: delay });
    this.sink?.stateChanged('absent', 'absent', `${this.opts.path} lost: ${why}`);
  }

  /**
   * Watches the device path for the whole life of the backend.
   * While open: a vanished or replaced node means the device is gone, even if the port
   * reported nothing. While absent: when the path reappears, try at once (and restart the
   * backoff: a new device deserves a quick first try); while it exists but will not open,
   * retry on the backoff schedule.
   */
  private schedulePoll(): void {
    if (this.stopped || this.pollTimer !== null) return;
    this.pollTimer = this.timers.setTimeout(() => {
      void this.poll().finally(() => {
        this.pollTimer = null;
        this.schedulePoll();
      });
    }, this.pollMs);
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.opening) return;
    const identity = await this.statDevice(this.opts.path);
    if (this.stopped || this.opening) return;
    const port = this.port;
    if (port) {
      if (identity === null) this.onLost(port, 'device path vanished');
      else if (this.openIdentity !== null && identity !== this.openIdentity) this.onLost(port, 'device replaced');
      return;
    }
    if (identity === null) {
      if (this.pathSeen) {
        this.pathSeen = false;
        this.sink?.stateChanged('absent', 'absent', `${this.opts.path} does not exist`);
      }
    } else if (!this.pathSeen) {
      this.pathSeen = true;
      this.backoff.reset();
      await this.attempt();
    } else if (this.opts.now() >= this.nextAttemptAt) {
      await this.attempt();
    }
  }

  private clearPoll(): void {
    if (this.pollTimer !== null) this.timers.clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private clearReadTimer(): void {
    if (this.readTimer !== null) this.timers.clearTimeout(this.readTimer);
    this.readTimer = null;
  }
}

function closeQuietly(port: SerialPortLike): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    try {
      port.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export function createSerialBackend(opts: SerialBackendOptions): SerialBackend {
  return new SerialBackend(opts);
}
