// `--backend serial`: the Ampio USB-serial CAN adapter through `serialport` (imported
// lazily, here only). Framing: src/core/serial-codec.ts. The open/watch/reopen loop is the
// shared DeviceSupervisor (device-supervisor.ts); this file says how to look at the device
// (the identity of the node behind its path) and what to do with an open port.
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
import { type CanFrame, type FrameOrigin, frameProblem } from '../core/frame.js';
import { encodeSerialTx, SerialDecoder, serialTxProblem } from '../core/serial-codec.js';
import type { WriteOutcome } from '../core/tx-queue.js';
import { type DeviceTimers, DeviceSupervisor, NODE_TIMERS, type SupervisedDevice } from './device-supervisor.js';
import { createDeviceTxDriver, type TxDriver } from './tx-driver.js';
import { BackendError, type BackendCounters, type BackendInfo, type BackendReloadable, type BackendSink, type CanBackend, type SendResult } from './types.js';

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

/** Identity of the device node behind the path (null: there is none). */
type DeviceIdentity = string | null;

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
  /**
   * Poll (and so reopen backoff) and read-timeout timers; default: Node's, unref'd. Tests
   * pass a manual clock (with the same clock as `now`) to step through backoff schedules
   * without real waits while the device I/O stays real.
   */
  timers?: DeviceTimers;
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
  /** Open, watch (by the device node's identity), lose and reopen the port. */
  private readonly supervisor: DeviceSupervisor<SerialPortLike, DeviceIdentity>;
  private readonly decoder = new SerialDecoder();
  private readonly tx: TxDriver;
  private readonly timers: DeviceTimers;
  private readTimer: unknown = null;
  private malformedReported = 0;
  /** The port we wait on for `drain`, if any. */
  private drainPort: SerialPortLike | null = null;
  private readonly readTimeoutMs: number;
  private readonly highWater: number;

  constructor(private readonly opts: SerialBackendOptions) {
    this.info = { kind: 'serial', name: opts.path, fd: false, bitrate: opts.bitrate };
    this.openPort = opts.openPort ?? null;
    this.statDevice = opts.statDevice ?? defaultStatDevice;
    this.timers = opts.timers ?? NODE_TIMERS;
    this.readTimeoutMs = opts.readTimeoutMs ?? 50;
    this.highWater = opts.writeHighWater ?? 64;
    const pollMs = opts.pollIntervalMs ?? 200;
    this.supervisor = new DeviceSupervisor(this.device(), {
      now: opts.now,
      timers: this.timers,
      // The path is watched open or not: serialport does not always report a hang-up.
      lookMs: { open: pollMs, closed: pollMs },
      backoff: { initial: opts.reopenInitialMs ?? 500, max: opts.reopenMaxMs ?? 10_000 },
      // A port that failed while its node is still there (a flaky adapter, a USB reset in
      // progress, a replaced device) gets one backoff step before the next open.
      retryAfterLoss: 'backoff',
      // The open's own error (permission, busy, no such file) tells the user what to do.
      openOnFirstLook: true,
    });
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
    // A missing serialport install can never work: that one rejects start().
    if (!this.openPort) this.openPort = await defaultOpenPortFactory();
    sink.stateChanged('opening', 'unknown', `opening ${this.opts.path}`);
    await this.supervisor.start();
  }

  async stop(): Promise<void> {
    if (this.supervisor.stopped) return;
    const closing = this.supervisor.stop();
    this.clearReadTimer();
    this.tx.stop('link_down');
    await closing;
    this.sink?.stateChanged('closed', 'stopped', 'stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: FrameOrigin): SendResult {
    return this.tx.offer(frame, origin, this.refusal(frame));
  }

  counters(): BackendCounters {
    const st = this.tx.stats();
    return { txQueueDepth: this.tx.depth, reopens: this.supervisor.reopens, txBusy: st.busy, txQueueHighWater: st.highWater };
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
    if (!this.supervisor.handle) return 'link_down';
    return null;
  }

  private write(frame: CanFrame): WriteOutcome {
    const port = this.supervisor.handle;
    if (!port?.isOpen) return 'down';
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

  /** The port's life as the supervisor drives it; the device is watched by its node's identity. */
  private device(): SupervisedDevice<SerialPortLike, DeviceIdentity> {
    const path = this.opts.path;
    return {
      look: () => this.statDevice(path),
      present: (identity) => identity !== null,
      faultOf: (_port, identity, atOpen) => {
        if (identity === null) return 'device path vanished';
        // A different node behind the path: unplugged and plugged back between two looks.
        if (atOpen !== null && identity !== atOpen) return 'device replaced';
        return null;
      },
      open: () => this.openPort!(path, this.opts.baud),
      close: (port) => {
        port.removeAllListeners('data');
        return closeQuietly(port);
      },
      opened: (port, reopen) => {
        this.decoder.reset();
        port.on('data', (chunk) => this.onData(port, chunk));
        port.on('close', (err) => this.supervisor.lose(port, err?.message ?? 'closed'));
        port.on('error', (err) => this.supervisor.lose(port, err.message));
        this.sink?.log('info', 'serial_open', { dev: path, baud: this.opts.baud, reopen });
        // The adapter reports no bus state: "unknown" is the honest answer while it is open.
        this.sink?.stateChanged('open', 'unknown', `${path} open`);
        this.tx.kick();
      },
      problemOf: (err) => openFailureHint(err, path),
      openFailed: (err, { problem: hint, retryMs, firstTime }) => {
        if (firstTime) this.sink?.log('warn', 'serial_open_failed', { dev: path, error: (err as Error).message, hint, retry_ms: retryMs });
        this.sink?.stateChanged('absent', 'absent', hint);
      },
      lost: (_port, why, retryMs) => {
        this.clearReadTimer();
        // Bytes of a frame cut by the unplug are not a frame.
        this.deliver(this.decoder.expire(this.opts.wallClock()));
        this.decoder.reset();
        this.tx.clear('link_down');
        this.sink?.log('warn', 'serial_lost', { dev: path, error: why, retry_ms: retryMs });
        this.sink?.stateChanged('absent', 'absent', `${path} lost: ${why}`);
      },
      missing: (_identity, vanished) => {
        if (vanished) this.sink?.stateChanged('absent', 'absent', `${path} does not exist`);
      },
    };
  }

  private onData(port: SerialPortLike, chunk: Buffer): void {
    if (port !== this.supervisor.handle || !this.sink) return;
    const frames = this.decoder.push(chunk, this.opts.wallClock());
    this.deliver(frames);
    // A half frame waits for its rest; if the line goes quiet, give it up (Go: 50 ms read
    // timeout) so a real frame behind a false preamble is not held until the next frame.
    this.clearReadTimer();
    if (this.decoder.pendingBytes > 0) {
      this.readTimer = this.timers.setTimeout(() => {
        this.readTimer = null;
        if (port === this.supervisor.handle) this.deliver(this.decoder.expire(this.opts.wallClock()));
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
