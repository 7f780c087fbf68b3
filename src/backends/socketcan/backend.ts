// `--backend socketcan`: one Linux CAN interface (can0, can1, vcan0 …) through our own
// raw-socket addon (binding.ts), loaded lazily and only here: a missing or broken binding
// fails this backend alone, with a message saying what to do.
//
// Over our ~350-line habit: link supervision (reopen on link loss) is still here; it moves
// to a device supervisor shared with the serial backend once their loops agree. Decoding
// (binding.ts), link reads (link.ts) and TX confirmation (tx-confirm.ts) are apart already.
//
// Reading: the addon reads on the main loop (libuv poll, recvmmsg, up to 256 frames per
// wakeup) and hands over one buffer per batch, decoded here without a callback per frame.
// Nothing is lost silently: frames the kernel dropped because the bridge was late (the
// socket's receive buffer, `--can-rcvbuf`, was full) are counted from SO_RXQ_OVFL and
// SO_MEMINFO (`rxKernelDrops`), with a warning at most every 10 s.
//
// Writing: a frame leaves the bridge's TX queue (bounded, stale-frame rule) into the
// kernel; it is reported transmitted — echoed to other clients, counted, captured — only
// when the kernel hands it back flagged MSG_CONFIRM, stamped with its transmit time. What
// is not confirmed within `--tx-max-age` is counted (`txUnconfirmed`). send() errors come
// back as errno: ENOBUFS (qdisc full) is retried with backoff, ENETDOWN/ENXIO/ENODEV mean
// the link is gone, EINVAL that this frame can never go.
//
// Faults handled without a restart: interface absent at start (polled, opened when it
// appears), link down/up, interface deleted and re-created, MTU changes (FD on/off),
// ENOBUFS, stale TX, bus-off (backlog dropped, TX refused as `bus_off` until restart).
import { Backoff } from '../../core/backoff.js';
import { BusStateTracker, canTransmit, type BusStateTransition } from '../../core/bus-state.js';
import { CAN_ERR_FLAG, CAN_ERR_MASK, type CanFrame, frameProblem } from '../../core/frame.js';
import type { WriteOutcome } from '../../core/tx-queue.js';
import { createDeviceTxDriver, type TxDriver } from '../tx-driver.js';
import type {
  BackendCounters,
  BackendInfo,
  BackendReloadable,
  BackendSink,
  BackendState,
  CanBackend,
  SendResult,
} from '../types.js';
import { type CanBinding, type CanSocketLike, decodeBatch, errnoName, loadCanBinding } from './binding.js';
import { ABSENT_LINK, CANFD_MTU, type LinkDetails, type LinkSnapshot, linkWarnings, readIpDetails, readSysfsLink } from './link.js';
import { TxConfirmations } from './tx-confirm.js';

export interface SocketCanBackendOptions {
  ifname: string;
  /** Bitrate for bus-load figures when the interface reports none (vcan). */
  bitrate: number;
  txQueueSize: number;
  txMaxAge: number;
  /** Socket receive buffer, bytes (`--can-rcvbuf`; 0 = the kernel's default). */
  rcvbuf?: number;
  /** Read pacing under load, ms (`--can-rx-coalesce`; 0 or absent = read at every wakeup). */
  rxCoalesceMs?: number;
  /** Monotonic ms. */
  now: () => number;
  /** Wall-clock ms since the epoch (receive time when the kernel gives none). */
  wallClock: () => number;
  loadBinding?: () => Promise<CanBinding> | CanBinding;
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

/** 1 MiB: a few seconds of a saturated 50 kbit/s bus even at the kernel's per-frame overhead. */
export const DEFAULT_RCVBUF = 1 << 20;
/** Without a tx-max-age, a frame still unconfirmed after this long is counted as such. */
const CONFIRM_LIMIT_WITHOUT_MAX_AGE_MS = 2000;
const DROP_LOG_EVERY_MS = 10_000;
const LINK_GONE = new Set(['ENETDOWN', 'ENXIO', 'ENODEV', 'ENETUNREACH']);

export class SocketCanBackend implements CanBackend {
  readonly info: BackendInfo;
  private sink: BackendSink | null = null;
  private binding: CanBinding | null = null;
  private socket: CanSocketLike | null = null;
  /** Bumped for every socket, so callbacks of an old one are ignored. */
  private generation = 0;
  private readonly tracker = new BusStateTracker('unknown');
  private backendState: BackendState = 'opening';
  private link: LinkSnapshot = ABSENT_LINK;
  private openLink: LinkSnapshot | null = null;
  private readonly tx: TxDriver;
  private readonly confirmations: TxConfirmations;
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
  /** Kernel drops of sockets already closed, plus the open socket's counter. */
  private dropsBefore = 0;
  private dropsNow = 0;
  private dropsLogged = 0;
  private lastDropLogAt = -Infinity;
  private readonly sendErrors: Record<string, number> = {};
  private readonly readLink: (ifname: string) => Promise<LinkSnapshot>;
  private readonly readDetails: (ifname: string) => Promise<LinkDetails | null>;

  constructor(private readonly opts: SocketCanBackendOptions) {
    this.info = { kind: 'socketcan', name: opts.ifname, fd: false, bitrate: opts.bitrate };
    this.readLink = opts.readLink ?? readSysfsLink;
    this.readDetails = opts.readDetails ?? readIpDetails;
    this.backoff = new Backoff({ initial: opts.reopenInitialMs ?? 250, max: opts.reopenMaxMs ?? 5000 });
    this.confirmations = new TxConfirmations(opts.now, confirmLimit(opts.txMaxAge));
    this.tx = createDeviceTxDriver({
      capacity: opts.txQueueSize,
      maxAge: opts.txMaxAge,
      now: opts.now,
      write: (f) => this.write(f),
      sink: () => this.sink,
      logFields: { if: opts.ifname },
      onWritten: (f, origin) => this.confirmations.written(f, origin),
    });
  }

  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    // The only failure that rejects: without the binding this backend can never work.
    this.binding = await (this.opts.loadBinding ?? loadCanBinding)();
    this.emitState(`opening ${this.opts.ifname}`);
    await this.step();
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closeSocket();
    this.tx.stop('link_down');
    this.tracker.set('stopped', 'stopped');
    this.backendState = 'closed';
    this.emitState('stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: number): SendResult {
    return this.tx.offer(frame, origin, this.refusal(frame));
  }

  counters(): BackendCounters {
    const st = this.tx.stats();
    this.pollKernelDrops();
    return {
      txQueueDepth: this.tx.depth,
      reopens: this.reopens,
      txBusy: st.busy,
      txQueueHighWater: st.highWater,
      errorCounters: this.tracker.errorCounters(),
      rxKernelDrops: this.dropsBefore + this.dropsNow,
      txUnconfirmed: this.confirmations.unconfirmed,
    };
  }

  reconfigure(settings: BackendReloadable): void {
    this.tx.setMaxAge(settings.txMaxAge);
    this.confirmations.setLimit(confirmLimit(settings.txMaxAge));
  }

  /** TX queue statistics, bus-state counters and send errors by errno (tests, diagnostics). */
  stats() {
    return {
      tx: this.tx.stats(),
      bus: this.tracker.counters(),
      busState: this.tracker.state,
      link: this.link,
      sendErrors: { ...this.sendErrors },
      awaitingConfirmation: this.confirmations.depth,
      unmatchedConfirmations: this.confirmations.unmatched,
      socket: this.socket?.info() ?? null,
    };
  }

  private refusal(frame: CanFrame): 'malformed' | 'unsupported' | 'link_down' | 'fd_unsupported' | 'bus_off' | null {
    if (frameProblem(frame) !== null) return 'malformed';
    // The daemon filters client error frames; a backend never writes one either.
    if ((frame.id & CAN_ERR_FLAG) !== 0) return 'unsupported';
    // Nothing is buffered while the link is gone: it would fire later.
    if (!this.socket || this.stopped) return 'link_down';
    if (frame.fd && !this.info.fd) return 'fd_unsupported';
    const state = this.tracker.state;
    if (!canTransmit(state)) return state === 'bus-off' ? 'bus_off' : 'link_down';
    return null;
  }

  private write(frame: CanFrame): WriteOutcome {
    const sock = this.socket;
    if (!sock) return 'down';
    if (frame.fd && !this.info.fd) return { drop: 'fd_unsupported' }; // MTU changed since send()
    const rtr = !frame.fd && (frame.id & 0x40000000) !== 0;
    const errno = sock.send(frame.id >>> 0, rtr ? null : frame.data, frame.len, frame.fdFlags, frame.fd);
    if (errno === 0) return 'sent';
    const name = errnoName(errno);
    this.sendErrors[name] = (this.sendErrors[name] ?? 0) + 1;
    if (name === 'ENOBUFS' || name === 'EAGAIN') return 'busy';
    if (LINK_GONE.has(name)) {
      // The socket error also arrives through the poll; whichever comes first closes it.
      const gen = this.generation;
      queueMicrotask(() => {
        if (gen === this.generation) this.lose(`send: ${name} (link down or interface removed)`);
      });
      return 'down';
    }
    if (name === 'EINVAL') return { drop: frame.fd ? 'fd_unsupported' : 'malformed' };
    // Anything else is treated as transient: the stale-frame rule bounds the retries.
    return 'busy';
  }

  // ---------------------------------------------------------------- link lifecycle

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const ms = this.socket ? (this.opts.watchIntervalMs ?? 1000) : (this.opts.pollIntervalMs ?? 250);
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
      if (this.socket) {
        this.confirmations.expire();
        this.pollKernelDrops();
      }
      const link = await this.readLink(this.opts.ifname);
      if (this.stopped) return;
      const prev = this.link;
      this.link = link;
      if (this.socket) {
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
    const gen = ++this.generation;
    const fd = link.mtu >= CANFD_MTU;
    let sock: CanSocketLike;
    try {
      sock = this.binding!.open(
        this.opts.ifname,
        { fd, errorMask: CAN_ERR_MASK, recvOwn: true, rcvbuf: this.opts.rcvbuf ?? DEFAULT_RCVBUF, coalesceMs: Math.ceil(this.opts.rxCoalesceMs ?? 0) },
        (batch, count, drops, errno) => {
          if (gen === this.generation) this.onBatch(batch, count, drops, errno);
        },
      );
    } catch (err) {
      this.openFailed(err as NodeJS.ErrnoException);
      return;
    }
    this.socket = sock;
    this.openLink = link;
    this.dropsNow = 0;
    this.lastFailure = '';
    this.backoff.reset();
    this.info.fd = fd;
    if (this.everOpened) this.reopens++;
    const reopen = this.everOpened;
    this.everOpened = true;
    this.backendState = 'open';
    this.applyTransition(this.tracker.link({ present: true, up: true }), `${this.opts.ifname} open`);
    this.tx.kick();
    // Bitrate, controller state and setup warnings come from `ip -details` after the
    // socket is up, so reading them (a process spawn) never delays the reopen.
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
      // what the kernel granted (it doubles the request for its own bookkeeping)
      rcvbuf: sock.info().rcvbuf,
      reopen,
    });
  }

  private openFailed(err: NodeJS.ErrnoException): void {
    // The link is there and up, yet no CAN_RAW socket binds to it: it vanished in
    // between, or the kernel lacks CAN_RAW (module can-raw not loaded).
    const delay = this.backoff.next();
    this.nextAttemptAt = this.opts.now() + delay;
    const noCan = err.code === 'EAFNOSUPPORT' || err.code === 'EPROTONOSUPPORT';
    const what = `cannot open a CAN_RAW socket on ${this.opts.ifname}: ${err.message}`;
    if (what !== this.lastFailure) {
      this.lastFailure = what;
      this.sink?.log('warn', 'socketcan_open_failed', {
        if: this.opts.ifname,
        error: err.message,
        code: err.code ?? null,
        hint: noCan
          ? 'this kernel has no SocketCAN (CAN_RAW): run "sudo modprobe can-raw"; if that fails the kernel was built without CAN'
          : 'if this persists, the kernel may lack CAN_RAW: run "sudo modprobe can-raw"',
        retry_ms: delay,
      });
    }
    this.backendState = 'absent';
    this.emitState(what);
  }

  /** The socket is gone (socket error, link down, interface removed or replaced). */
  private lose(why: string): void {
    if (!this.socket || this.stopped) return;
    this.closeSocket();
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

  private closeSocket(): void {
    const sock = this.socket;
    this.socket = null;
    this.openLink = null;
    this.generation++;
    if (!sock) return;
    this.pollKernelDrops(sock);
    this.dropsBefore += this.dropsNow;
    this.dropsNow = 0;
    // Frames still in the kernel's queue die with the socket's device queue or never
    // get confirmed to us: they count as unconfirmed.
    this.confirmations.clear();
    sock.close();
  }

  // ---------------------------------------------------------------- frames and state

  private onBatch(batch: Buffer | null, count: number, drops: number, errno: number): void {
    this.noteKernelDrops(drops);
    if (batch && count > 0) decodeBatch(batch, count, this.opts.wallClock, this.onFrame);
    if (errno !== 0) {
      const name = errnoName(errno);
      this.lose(`socket error ${name}${LINK_GONE.has(name) ? ' (link down or interface removed)' : ''}`);
    }
  }

  private readonly onFrame = (frame: CanFrame, own: boolean): void => {
    const sink = this.sink;
    if (!sink) return;
    if (own) {
      const c = this.confirmations.confirm(frame);
      if (c) sink.transmitted(c.frame, c.origin);
      return;
    }
    if ((frame.id & CAN_ERR_FLAG) !== 0) {
      const t = this.tracker.errorFrame(frame);
      sink.errorFrame?.(frame);
      this.applyTransition(t, t?.cause);
    }
    sink.received(frame);
  };

  private pollKernelDrops(sock: CanSocketLike | null = this.socket): void {
    if (sock) this.noteKernelDrops(sock.kernelDrops());
  }

  /** `total`: the open socket's cumulative drop counter. Warns at most every 10 s. */
  private noteKernelDrops(total: number): void {
    if (total > this.dropsNow) this.dropsNow = total;
    const all = this.dropsBefore + this.dropsNow;
    if (all === this.dropsLogged) return;
    const now = this.opts.now();
    if (now - this.lastDropLogAt < DROP_LOG_EVERY_MS) return;
    this.lastDropLogAt = now;
    this.sink?.log('warn', 'can_rx_kernel_drops', {
      if: this.opts.ifname,
      dropped: all - this.dropsLogged,
      total: all,
      rcvbuf: this.socket?.info().rcvbuf ?? null,
      message: 'the kernel dropped received frames because the bridge read too late: the host is overloaded or --can-rcvbuf is too small',
    });
    this.dropsLogged = all;
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

  /** Tells the sink, once per change: the link is polled, the state is not re-sent each time. */
  private emitState(detail?: string): void {
    const key = `${this.backendState}/${this.tracker.state}`;
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.sink?.stateChanged(this.backendState, this.tracker.state, detail);
  }
}

function confirmLimit(txMaxAge: number): number {
  return txMaxAge > 0 ? txMaxAge : CONFIRM_LIMIT_WITHOUT_MAX_AGE_MS;
}

export function createSocketCanBackend(opts: SocketCanBackendOptions): SocketCanBackend {
  return new SocketCanBackend(opts);
}
