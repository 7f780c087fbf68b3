// `--backend socketcan`: one Linux CAN interface (can0, can1, vcan0 …) through the
// `socketcan` npm package (4.0.7, an optional dependency with a native binding), imported
// lazily and only here. A missing or broken binding fails this backend alone, with a
// message saying what to install.
//
// What the binding does and does not give (read from socketcan 4.0.7 native/can.cc):
// - createRawChannelWithOptions(name, { timestamps, non_block_send }) has no error-filter
//   option, but the channel enables CAN_RAW_ERR_FILTER = CAN_ERR_MASK itself and has
//   setErrorFilters(mask); we set the mask explicitly so error frames (bus-off,
//   controller, restarted …) always arrive. They carry `err: true`.
// - CAN_RAW_FD_FRAMES is switched on; received FD frames carry no FD/BRS flag, so a frame
//   is known to be FD only when it has more than 8 bytes.
// - `timestamps: true` reads the kernel receive time (SIOCGSTAMP) into ts_sec/ts_usec.
// - send()/sendFD() return the send(2) result, -1 on failure, without errno. ENOBUFS (the
//   qdisc is full) and EAGAIN are transient; a link that went down or away also ends the
//   channel (its poll thread sees POLLERR and fires onStopped), which clears the queue as
//   `link_down`. So -1 is retried with backoff, and staleness bounds how long.
// - 4.0.7's send() does not check the length: every frame is validated before it.
// - There is no close(): stop() ends the reader thread; the socket is closed when the
//   channel object is garbage-collected. Each reopen makes a new channel.
//
// Faults handled without a restart: interface absent at start (state `absent`, polled,
// opened when it appears), link down/up, interface deleted and re-created (reopened
// within one poll interval of coming back), MTU changes (FD on/off), ENOBUFS (bounded
// queue, retry 1–5 ms), stale TX (`--tx-max-age`), bus-off (backlog dropped, TX refused
// as `bus_off` until the controller restarts).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backoff } from '../core/backoff.js';
import { BusStateTracker, canTransmit, type BusStateTransition } from '../core/bus-state.js';
import {
  ABSENT_LINK,
  CANFD_MTU,
  type LinkDetails,
  linkFromSysfs,
  type LinkSnapshot,
  linkWarnings,
  parseIpLinkDetails,
} from '../core/can-link.js';
import {
  CAN_EFF_FLAG,
  CAN_ERR_FLAG,
  CAN_ERR_MASK,
  CAN_RTR_FLAG,
  CANFD_BRS,
  type CanFrame,
  arbitrationId,
  frameProblem,
} from '../core/frame.js';
import type { WriteOutcome } from '../core/tx-queue.js';
import { createDeviceTxDriver, type TxDriver } from './tx-driver.js';
import {
  BackendError,
  type BackendCounters,
  type BackendInfo,
  type BackendReloadable,
  type BackendSink,
  type BackendState,
  type CanBackend,
  type SendResult,
} from './types.js';

// ---------------------------------------------------------------- the binding's shape

/** A received message as socketcan 4.0.7 delivers it. */
export interface RawMessage {
  /** Arbitration id without flags (error frames: the error class bits). */
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  /** Payload; for RTR frames its length is the DLC. */
  data: Buffer;
  ts_sec?: number;
  ts_usec?: number;
}

export interface OutMessage {
  id: number;
  ext: boolean;
  rtr?: boolean;
  fd_brs?: boolean;
  data: Buffer;
}

export interface RawChannelLike {
  addListener(event: 'onMessage', cb: (m: RawMessage) => void): unknown;
  addListener(event: 'onStopped', cb: () => void): unknown;
  start(): unknown;
  stop(): unknown;
  send(m: OutMessage): number;
  sendFD(m: OutMessage): number;
  setErrorFilters(mask: number): unknown;
}

export interface SocketCanBinding {
  createRawChannelWithOptions(name: string, options: { timestamps?: boolean; non_block_send?: boolean }): RawChannelLike;
}

/** The directory holding ampio-bridge's package.json, for the "run this there" hints. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'ampio-bridge') return dir;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  return '<the ampio-bridge install directory>';
}

/**
 * Loads the socketcan binding. Every failure becomes a BackendError whose hint is the
 * exact command to run. `importer` is injectable so the messages can be tested.
 */
export async function loadSocketCanBinding(
  importer: (specifier: string) => Promise<unknown> = (s) => import(s),
): Promise<SocketCanBinding> {
  // A variable specifier: the package is optional, so the build must not need its types.
  const specifier = 'socketcan';
  let mod: unknown;
  try {
    mod = await importer(specifier);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const root = packageRoot();
    const text = String(e?.message ?? err);
    const notInstalled = (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && /['"]socketcan['"]/.test(text);
    if (notInstalled) {
      throw new BackendError(
        'socketcan_missing',
        'the SocketCAN backend needs the optional "socketcan" package, which is not installed (it is compiled on install and needs a C++ compiler)',
        `run: sudo apt install build-essential python3 && cd ${root} && npm install --no-save socketcan@4.0.7   (or use --backend serial / --backend virtual)`,
        { cause: err },
      );
    }
    throw new BackendError(
      'socketcan_broken',
      `the "socketcan" package is installed but its native binding does not load: ${text.split('\n')[0]}`,
      `rebuild it for this Node.js (${process.version}): sudo apt install build-essential python3 && cd ${root} && npm rebuild socketcan`,
      { cause: err },
    );
  }
  const m = mod as { createRawChannelWithOptions?: unknown; default?: { createRawChannelWithOptions?: unknown } };
  const api = typeof m.createRawChannelWithOptions === 'function' ? m : m.default;
  if (!api || typeof api.createRawChannelWithOptions !== 'function') {
    throw new BackendError(
      'socketcan_broken',
      'the "socketcan" package does not export createRawChannelWithOptions (an unsupported version?)',
      `install the tested version: cd ${packageRoot()} && npm install --no-save socketcan@4.0.7`,
    );
  }
  return api as SocketCanBinding;
}

// ---------------------------------------------------------------- link reads

/** /sys/class/net/IF/…: cheap enough to poll. */
export async function readSysfsLink(ifname: string): Promise<LinkSnapshot> {
  const base = `/sys/class/net/${ifname}`;
  try {
    const [flags, mtu, operstate, txQueueLen, ifindex] = await Promise.all(
      ['flags', 'mtu', 'operstate', 'tx_queue_len', 'ifindex'].map((f) => readFile(`${base}/${f}`, 'utf8')),
    );
    return linkFromSysfs({ flags, mtu, operstate, txQueueLen, ifindex });
  } catch {
    return ABSENT_LINK;
  }
}

/** `ip -details -json link show dev IF` (bitrate, controller state, restart-ms). */
export function readIpDetails(ifname: string): Promise<LinkDetails | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-details', '-json', 'link', 'show', 'dev', ifname], { timeout: 3000 }, (err, stdout) => {
      resolve(err ? null : parseIpLinkDetails(String(stdout)));
    });
  });
}

// ---------------------------------------------------------------- the backend

export interface SocketCanBackendOptions {
  ifname: string;
  /** Bitrate for bus-load figures when the interface reports none (vcan). */
  bitrate: number;
  txQueueSize: number;
  txMaxAge: number;
  /** Monotonic ms. */
  now: () => number;
  /** Wall-clock ms since the epoch (receive time when the kernel gives none). */
  wallClock: () => number;
  loadBinding?: () => Promise<SocketCanBinding>;
  readLink?: (ifname: string) => Promise<LinkSnapshot>;
  readDetails?: (ifname: string) => Promise<LinkDetails | null>;
  /** Link poll while not open, ms (default 250: reopen well within 2 s). */
  pollIntervalMs?: number;
  /** Link check while open, ms (default 1000; the socket error is the fast path). */
  watchIntervalMs?: number;
  /** Backoff for failing opens of a present, up interface (default 250 → 5000 ms). */
  reopenInitialMs?: number;
  reopenMaxMs?: number;
}

const EMPTY = new Uint8Array(0);

export class SocketCanBackend implements CanBackend {
  readonly info: BackendInfo;
  private sink: BackendSink | null = null;
  private binding: SocketCanBinding | null = null;
  private channel: RawChannelLike | null = null;
  /** Bumped for every channel, so callbacks of an old one are ignored. */
  private generation = 0;
  private readonly tracker = new BusStateTracker('unknown');
  private backendState: BackendState = 'opening';
  private link: LinkSnapshot = ABSENT_LINK;
  private openLink: LinkSnapshot | null = null;
  private readonly tx: TxDriver;
  private readonly backoff: Backoff;
  private nextAttemptAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private stopped = false;
  private everOpened = false;
  private reopens = 0;
  private lastFailure = '';
  private lastEmitted = '';
  private readonly warned = new Set<string>();
  private readonly readLink: (ifname: string) => Promise<LinkSnapshot>;
  private readonly readDetails: (ifname: string) => Promise<LinkDetails | null>;

  constructor(private readonly opts: SocketCanBackendOptions) {
    this.info = { kind: 'socketcan', name: opts.ifname, fd: false, bitrate: opts.bitrate };
    this.readLink = opts.readLink ?? readSysfsLink;
    this.readDetails = opts.readDetails ?? readIpDetails;
    this.backoff = new Backoff({ initial: opts.reopenInitialMs ?? 250, max: opts.reopenMaxMs ?? 5000 });
    this.tx = createDeviceTxDriver({
      capacity: opts.txQueueSize,
      maxAge: opts.txMaxAge,
      now: opts.now,
      write: (f) => this.write(f),
      sink: () => this.sink,
      logFields: { if: opts.ifname },
    });
  }

  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    // The only failure that rejects: without the binding this backend can never work.
    this.binding = await (this.opts.loadBinding ?? loadSocketCanBinding)();
    this.emitState(`opening ${this.opts.ifname}`);
    await this.step();
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closeChannel();
    this.tx.stop('link_down');
    this.tracker.set('stopped', 'stopped');
    this.backendState = 'closed';
    this.emitState('stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: number): SendResult {
    const reason = this.refusal(frame);
    if (reason) {
      this.tx.queue.refuse(reason);
      return { ok: false, reason };
    }
    return this.tx.push(frame, origin);
  }

  counters(): BackendCounters {
    const st = this.tx.stats();
    return {
      txQueueDepth: this.tx.depth,
      reopens: this.reopens,
      txBusy: st.busy,
      txQueueHighWater: st.highWater,
      errorCounters: this.tracker.errorCounters(),
    };
  }

  reconfigure(settings: BackendReloadable): void {
    this.tx.setMaxAge(settings.txMaxAge);
  }

  /** TX queue statistics and bus-state counters (tests, diagnostics). */
  stats() {
    return { tx: this.tx.stats(), bus: this.tracker.counters(), busState: this.tracker.state, link: this.link };
  }

  private refusal(frame: CanFrame): 'malformed' | 'unsupported' | 'link_down' | 'fd_unsupported' | 'bus_off' | null {
    if (frameProblem(frame) !== null) return 'malformed';
    // The daemon filters client error frames; a backend never writes one either.
    if ((frame.id & CAN_ERR_FLAG) !== 0) return 'unsupported';
    // Nothing is buffered while the link is gone (user-needs #4): it would fire later.
    if (!this.channel || this.stopped) return 'link_down';
    if (frame.fd && !this.info.fd) return 'fd_unsupported';
    const state = this.tracker.state;
    if (!canTransmit(state)) return state === 'bus-off' ? 'bus_off' : 'link_down';
    return null;
  }

  private write(frame: CanFrame): WriteOutcome {
    const ch = this.channel;
    if (!ch) return 'down';
    if (frame.fd && !this.info.fd) return { drop: 'fd_unsupported' }; // MTU changed since send()
    const rtr = (frame.id & CAN_RTR_FLAG) !== 0;
    const msg: OutMessage = {
      id: arbitrationId(frame),
      ext: (frame.id & CAN_EFF_FLAG) !== 0,
      // The binding takes the DLC of an RTR frame from the buffer length.
      data: rtr ? Buffer.alloc(frame.len) : Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length),
    };
    if (rtr) msg.rtr = true;
    let r: number;
    try {
      if (frame.fd) {
        msg.fd_brs = (frame.fdFlags & CANFD_BRS) !== 0;
        r = ch.sendFD(msg);
      } else {
        r = ch.send(msg);
      }
    } catch {
      // The binding throws only on arguments it cannot use: this frame can never go.
      return { drop: 'malformed' };
    }
    return r >= 0 ? 'sent' : 'busy';
  }

  // ---------------------------------------------------------------- link lifecycle

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const ms = this.channel ? (this.opts.watchIntervalMs ?? 1000) : (this.opts.pollIntervalMs ?? 250);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.step().finally(() => this.schedule());
    }, ms);
    this.timer.unref();
  }

  /** One look at the link: open when possible, notice a loss the socket did not report. */
  private async step(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      const link = await this.readLink(this.opts.ifname);
      if (this.stopped) return;
      const prev = this.link;
      this.link = link;
      if (this.channel) {
        const o = this.openLink!;
        if (!link.present) this.lose('interface removed');
        else if (!link.up) this.lose('link down');
        else if (link.ifindex !== o.ifindex) this.lose('interface re-created');
        else if (link.mtu !== o.mtu) this.lose(`MTU changed to ${link.mtu}`);
        return;
      }
      // A link that just came back (or appeared) gets an immediate attempt.
      if ((link.present && !prev.present) || (link.up && !prev.up)) {
        this.backoff.reset();
        this.nextAttemptAt = 0;
      }
      if (!link.present || !link.up) {
        this.backendState = 'absent';
        this.applyTransition(this.tracker.link(link), link.present ? `${this.opts.ifname} is down` : `${this.opts.ifname} does not exist`);
        return;
      }
      if (this.opts.now() >= this.nextAttemptAt) await this.open(link);
    } finally {
      this.busy = false;
    }
  }

  private async open(link: LinkSnapshot): Promise<void> {
    let ch: RawChannelLike;
    try {
      ch = this.binding!.createRawChannelWithOptions(this.opts.ifname, { timestamps: true, non_block_send: true });
    } catch (err) {
      // The link is there and up, yet no CAN_RAW socket binds to it: it vanished in
      // between, or the kernel lacks CAN_RAW (module can-raw not loaded).
      const delay = this.backoff.next();
      this.nextAttemptAt = this.opts.now() + delay;
      const what = `cannot open a CAN_RAW socket on ${this.opts.ifname}: ${(err as Error).message}`;
      if (what !== this.lastFailure) {
        this.lastFailure = what;
        this.sink?.log('warn', 'socketcan_open_failed', {
          if: this.opts.ifname,
          error: (err as Error).message,
          hint: 'if this persists, the kernel may lack CAN_RAW: run "sudo modprobe can-raw"',
          retry_ms: delay,
        });
      }
      this.report('absent', what);
      return;
    }
    const gen = ++this.generation;
    try {
      ch.setErrorFilters(CAN_ERR_MASK);
    } catch {
      // 4.0.7 enables the full mask in its constructor anyway
    }
    ch.addListener('onMessage', (m: RawMessage) => {
      if (gen === this.generation) this.onMessage(m);
    });
    ch.addListener('onStopped', () => {
      // Called from inside the binding's own teardown: stop() must not be called back
      // into it here (4.0.7 would Unref twice and abort the process).
      if (gen === this.generation) this.lose('socket error (link down or interface removed)', false);
    });
    ch.start();
    this.channel = ch;
    this.openLink = link;
    this.lastFailure = '';
    this.backoff.reset();
    this.info.fd = link.mtu >= CANFD_MTU;
    if (this.everOpened) this.reopens++;
    const reopen = this.everOpened;
    this.everOpened = true;
    this.backendState = 'open';
    this.applyTransition(this.tracker.link({ present: true, up: true }), `${this.opts.ifname} open`);
    this.tx.kick();
    // Bitrate, controller state and setup warnings come from `ip -details` after the
    // channel is up, so reading them (a process spawn) never delays the reopen.
    const details = await this.readDetails(this.opts.ifname);
    if (gen !== this.generation || this.stopped) return;
    this.info.bitrate = details?.bitrate ?? this.opts.bitrate;
    if (details) {
      for (const w of linkWarnings(details)) {
        if (this.warned.has(w.event)) continue;
        this.warned.add(w.event);
        this.sink?.log('warn', w.event, { if: this.opts.ifname, message: w.message });
      }
      if (details.canState) this.applyTransition(this.tracker.link({ present: true, up: true, canState: details.canState }));
    }
    this.sink?.log('info', 'socketcan_open', {
      if: this.opts.ifname,
      mtu: link.mtu,
      fd: this.info.fd,
      bitrate: this.info.bitrate,
      kind: details?.kind ?? null,
      state: this.tracker.state,
      reopen,
    });
  }

  /**
   * The channel is gone (socket error, link down, interface removed or replaced).
   * `stopChannel` is false when the binding reported it: it already tore itself down.
   */
  private lose(why: string, stopChannel = true): void {
    if (!this.channel || this.stopped) return;
    this.closeChannel(stopChannel);
    this.tx.clear('link_down');
    this.sink?.log('warn', 'socketcan_lost', { if: this.opts.ifname, reason: why });
    // Whatever the link says now, the bus was just lost; the next poll refines it.
    this.backendState = 'absent';
    this.applyTransition(this.tracker.set('down', why), why);
    // Reopen on the next poll, which comes soon.
    this.nextAttemptAt = 0;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.schedule();
  }

  private closeChannel(stopChannel = true): void {
    const ch = this.channel;
    this.channel = null;
    this.openLink = null;
    this.generation++;
    if (!ch || !stopChannel) return;
    try {
      // Runs the binding's onStopped listeners synchronously; the generation bump above
      // makes ours ignore it.
      ch.stop();
    } catch {
      // the reader thread already ended ("Channel not started")
    }
  }

  // ---------------------------------------------------------------- frames and state

  private onMessage(m: RawMessage): void {
    const sink = this.sink;
    if (!sink) return;
    let id = m.id >>> 0;
    if (m.ext) id |= CAN_EFF_FLAG;
    if (m.rtr) id |= CAN_RTR_FLAG;
    if (m.err) id |= CAN_ERR_FLAG;
    id >>>= 0;
    const data = m.data;
    const timestamp = typeof m.ts_sec === 'number' ? m.ts_sec * 1000 + (m.ts_usec ?? 0) / 1000 : this.opts.wallClock();
    const frame: CanFrame = m.rtr
      ? { id, len: data.length, data: EMPTY, fd: false, fdFlags: 0, timestamp }
      : {
          id,
          len: data.length,
          data: new Uint8Array(data.buffer, data.byteOffset, data.length),
          // 4.0.7 does not say whether a frame was FD; more than 8 bytes can only be FD.
          fd: data.length > 8,
          fdFlags: 0,
          timestamp,
        };
    if (m.err) {
      const t = this.tracker.errorFrame(frame);
      sink.errorFrame?.(frame);
      this.applyTransition(t, t?.cause);
    }
    sink.received(frame);
  }

  /** Acts on a bus-state transition and reports the (backend, bus) pair if it changed. */
  private applyTransition(t: BusStateTransition | null, detail?: string): void {
    if (t?.to === 'bus-off') {
      // A bus-off controller sends nothing; what waits would go out stale after restart.
      this.tx.clear('bus_off');
    }
    if (t && canTransmit(t.to)) this.tx.kick();
    this.emitState(detail ?? t?.cause);
  }

  private report(backend: BackendState, detail: string): void {
    this.backendState = backend;
    this.emitState(detail);
  }

  /** Tells the sink, once per change: the link is polled, the state is not re-sent each time. */
  private emitState(detail?: string): void {
    const key = `${this.backendState}/${this.tracker.state}`;
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.sink?.stateChanged(this.backendState, this.tracker.state, detail);
  }
}

export function createSocketCanBackend(opts: SocketCanBackendOptions): SocketCanBackend {
  return new SocketCanBackend(opts);
}
