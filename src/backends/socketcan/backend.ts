// `--backend socketcan`: one Linux CAN interface (can0, can1, vcan0 …) through our own
// raw-socket addon (binding.ts), loaded lazily and only here: a missing or broken binding
// fails this backend alone, with a message saying what to do.
//
// Apart from this file: decoding (binding.ts) and what each read frame is
// (batch-reader.ts), link reads (link.ts), TX confirmation (tx-confirm.ts), kernel drop
// counting (kernel-drops.ts), the pacing and buffer a reload may change (socket-tuning.ts),
// the (backend, bus) state it reports (state-report.ts) and the
// open/watch/reopen loop (the DeviceSupervisor shared with serial, ../device-supervisor.ts);
// this file says how to look at the link and what to do with a socket.
//
// Reading: the addon reads on the main loop (libuv poll, recvmmsg, up to 256 frames per
// wakeup; under load on the `--can-rx-coalesce` timer) and hands over one buffer per batch,
// decoded here without a callback per frame.
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
import { canTransmit } from '../../core/bus-state.js';
import { CAN_ERR_FLAG, CAN_ERR_MASK, type CanFrame, type FrameOrigin, frameProblem } from '../../core/frame.js';
import type { WriteOutcome } from '../../core/tx-queue.js';
import { type DeviceTimers, DeviceSupervisor, type SupervisedDevice } from '../device-supervisor.js';
import { createDeviceTxDriver, type TxDriver } from '../tx-driver.js';
import type { BackendCounters, BackendInfo, BackendReloadable, BackendSink, CanBackend, SendResult } from '../types.js';
import { BatchReader } from './batch-reader.js';
import { type CanBinding, type CanSocketLike, errnoName, loadCanBinding } from './binding.js';
import { ABSENT_LINK, CANFD_MTU, type LinkDetails, type LinkSnapshot, linkWarnings, readIpDetails, readSysfsLink } from './link.js';
import { KERNEL_DROPS_MESSAGE, KernelDrops } from './kernel-drops.js';
import { rxCoalesceMs, SocketTuning } from './socket-tuning.js';
import { StateReport } from './state-report.js';
import { TxConfirmations } from './tx-confirm.js';

export interface SocketCanBackendOptions {
  ifname: string;
  /** Bitrate for bus-load figures when the interface reports none (vcan). */
  bitrate: number;
  txQueueSize: number;
  txMaxAge: number;
  /** Socket receive buffer, bytes (`--can-rcvbuf`; 0 = the kernel's default). */
  rcvbuf?: number;
  /** Read pacing under load, ms (`--can-rx-coalesce`; 0/absent: every wakeup). */
  rxCoalesceMs?: number;
  /** Monotonic ms. */
  now: () => number;
  /** Wall-clock ms since the epoch (receive time when the kernel gives none). */
  wallClock: () => number;
  loadBinding?: () => Promise<CanBinding> | CanBinding;
  readLink?: (ifname: string) => Promise<LinkSnapshot>;
  readDetails?: (ifname: string) => Promise<LinkDetails | null>;
  /** Link polls and reopen backoff; default: Node's timers, unref'd. */
  timers?: DeviceTimers;
  /** Link poll while not open, ms (default 250: reopen well within 2 s). */
  pollIntervalMs?: number;
  /** Link check while open, ms (default 1000; the socket error is the fast path). */
  watchIntervalMs?: number;
  /** Backoff for failing opens of a present, up interface (default 250 → 5000 ms). */
  reopenInitialMs?: number;
  reopenMaxMs?: number;
}

/** --can-rcvbuf's default (8 MiB): see its help in the options table. */
export const DEFAULT_RCVBUF = 8 << 20;
/** Without a tx-max-age, a frame still unconfirmed after this long is counted as such. */
const CONFIRM_LIMIT_WITHOUT_MAX_AGE_MS = 2000;
const LINK_GONE = new Set(['ENETDOWN', 'ENXIO', 'ENODEV', 'ENETUNREACH']);
const NO_CAN_RAW_HINT = 'this kernel has no SocketCAN (CAN_RAW): run "sudo modprobe can-raw"; if that fails the kernel was built without CAN';
const MAYBE_NO_CAN_RAW_HINT = 'if this persists, the kernel may lack CAN_RAW: run "sudo modprobe can-raw"';

export class SocketCanBackend implements CanBackend {
  readonly info: BackendInfo;
  private sink: BackendSink | null = null;
  private binding: CanBinding | null = null;
  /** Open, watch (by the link's state), lose and reopen the socket. */
  private readonly supervisor: DeviceSupervisor<CanSocketLike, LinkSnapshot>;
  private readonly state: StateReport;
  private link: LinkSnapshot = ABSENT_LINK;
  private readonly tx: TxDriver;
  private readonly confirmations: TxConfirmations;
  private readonly reader: BatchReader;
  private readonly warned = new Set<string>();
  private readonly kernelDrops: KernelDrops;
  private readonly sendErrors: Record<string, number> = {};
  private readonly readLink: (ifname: string) => Promise<LinkSnapshot>;
  private readonly readDetails: (ifname: string) => Promise<LinkDetails | null>;
  /** Read pacing and receive buffer, as asked for now (a reload may change them). */
  private readonly tuning: SocketTuning;

  constructor(private readonly opts: SocketCanBackendOptions) {
    this.info = { kind: 'socketcan', name: opts.ifname, fd: false, bitrate: opts.bitrate };
    this.readLink = opts.readLink ?? readSysfsLink;
    this.readDetails = opts.readDetails ?? readIpDetails;
    this.tuning = new SocketTuning(opts.ifname, { rxCoalesceMs: opts.rxCoalesceMs ?? 0, rcvbuf: opts.rcvbuf ?? DEFAULT_RCVBUF }, (level, event, fields) =>
      this.sink?.log(level, event, fields),
    );
    this.state = new StateReport(
      () => this.sink,
      (t) => {
        // A bus-off controller sends nothing; what waits would go out stale after restart.
        if (t.to === 'bus-off') this.tx.clear('bus_off');
        else if (canTransmit(t.to)) this.tx.kick();
      },
    );
    this.supervisor = new DeviceSupervisor(this.device(), {
      now: opts.now,
      timers: opts.timers,
      lookMs: { open: opts.watchIntervalMs ?? 1000, closed: opts.pollIntervalMs ?? 250 },
      backoff: { initial: opts.reopenInitialMs ?? 250, max: opts.reopenMaxMs ?? 5000 },
      // The link state says whether a reopen can work: a lost socket is reopened at the
      // next look, as soon as the link is up again.
      retryAfterLoss: 'next-look',
    });
    this.confirmations = new TxConfirmations(opts.now, confirmLimit(opts.txMaxAge));
    this.reader = new BatchReader({ sink: () => this.sink, confirmations: this.confirmations, state: this.state, wallClock: opts.wallClock });
    this.kernelDrops = new KernelDrops(opts.now, (dropped, total) => {
      const rcvbuf = this.supervisor.handle?.info().rcvbuf ?? null;
      this.sink?.log('warn', 'can_rx_kernel_drops', { if: opts.ifname, dropped, total, rcvbuf, message: KERNEL_DROPS_MESSAGE });
    });
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
    // The only failure that rejects: without the binding this backend can never work.
    this.binding = await (this.opts.loadBinding ?? loadCanBinding)();
    this.state.apply(null, `opening ${this.opts.ifname}`);
    await this.supervisor.start();
  }

  async stop(): Promise<void> {
    if (this.supervisor.stopped) return;
    await this.supervisor.stop();
    this.tx.stop('link_down');
    this.state.set('closed', this.state.tracker.set('stopped', 'stopped'), 'stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: FrameOrigin): SendResult {
    return this.tx.offer(frame, origin, this.refusal(frame));
  }

  counters(): BackendCounters {
    const st = this.tx.stats();
    this.pollKernelDrops();
    return {
      txQueueDepth: this.tx.depth,
      reopens: this.supervisor.reopens,
      txBusy: st.busy,
      txQueueHighWater: st.highWater,
      errorCounters: this.state.tracker.errorCounters(),
      rxKernelDrops: this.kernelDrops.total,
      txUnconfirmed: this.confirmations.unconfirmed,
    };
  }

  reconfigure(settings: BackendReloadable): void {
    this.tx.setMaxAge(settings.txMaxAge);
    this.confirmations.setLimit(confirmLimit(settings.txMaxAge));
    // The open socket follows at once; a reopened one is opened with the new values.
    this.tuning.apply({ rxCoalesceMs: rxCoalesceMs(settings), rcvbuf: settings.canRcvbuf }, this.supervisor.handle);
  }

  /** TX queue statistics, bus-state counters and send errors by errno (tests, diagnostics). */
  stats() {
    return {
      tx: this.tx.stats(),
      bus: this.state.tracker.counters(),
      busState: this.state.tracker.state,
      link: this.link,
      sendErrors: { ...this.sendErrors },
      awaitingConfirmation: this.confirmations.depth,
      unmatchedConfirmations: this.confirmations.unmatched,
      socket: this.supervisor.handle?.info() ?? null,
    };
  }

  private refusal(frame: CanFrame): 'malformed' | 'unsupported' | 'link_down' | 'fd_unsupported' | 'bus_off' | null {
    if (frameProblem(frame) !== null) return 'malformed';
    // The daemon filters client error frames; a backend never writes one either.
    if ((frame.id & CAN_ERR_FLAG) !== 0) return 'unsupported';
    // Nothing is buffered while the link is gone: it would fire later.
    if (!this.supervisor.handle) return 'link_down';
    if (frame.fd && !this.info.fd) return 'fd_unsupported';
    const state = this.state.tracker.state;
    if (!canTransmit(state)) return state === 'bus-off' ? 'bus_off' : 'link_down';
    return null;
  }

  private write(frame: CanFrame): WriteOutcome {
    const sock = this.supervisor.handle;
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
      queueMicrotask(() => this.supervisor.lose(sock, `send: ${name} (link down or interface removed)`));
      return 'down';
    }
    if (name === 'EINVAL') return { drop: frame.fd ? 'fd_unsupported' : 'malformed' };
    // Anything else is treated as transient: the stale-frame rule bounds the retries.
    return 'busy';
  }

  // ---------------------------------------------------------------- link lifecycle

  /** The socket's life as the supervisor drives it; the link is watched through sysfs. */
  private device(): SupervisedDevice<CanSocketLike, LinkSnapshot> {
    const ifname = this.opts.ifname;
    return {
      look: async () => {
        if (this.supervisor.handle) {
          this.confirmations.expire();
          this.pollKernelDrops();
        }
        this.link = await this.readLink(ifname);
        return this.link;
      },
      present: (link) => link.present && link.up,
      faultOf: (_sock, link, atOpen) => {
        if (!link.present) return 'interface removed';
        if (!link.up) return 'link down';
        if (link.ifindex !== atOpen.ifindex) return 'interface re-created';
        if (link.mtu !== atOpen.mtu) return `MTU changed to ${link.mtu}`;
        return null;
      },
      open: (link) => {
        const options = { fd: link.mtu >= CANFD_MTU, errorMask: CAN_ERR_MASK, recvOwn: true, rcvbuf: this.tuning.rcvbuf, coalesceMs: this.tuning.coalesceMs };
        // Batches of a socket that is no longer the open one are ignored.
        const sock: CanSocketLike = this.binding!.open(ifname, options, (batch, count, drops, errno, paced) => {
          if (sock === this.supervisor.handle) this.onBatch(sock, batch, count, drops, errno, paced === true);
        });
        return sock;
      },
      close: (sock) => this.closeSocket(sock),
      opened: (sock, reopen, link) => this.opened(sock, reopen, link),
      problemOf: (err) => `cannot open a CAN_RAW socket on ${ifname}: ${(err as Error).message}`,
      openFailed: (err, { problem, retryMs, firstTime }) => {
        // The link is there and up, yet no CAN_RAW socket binds to it: it vanished in
        // between, or the kernel lacks CAN_RAW (module can-raw not loaded).
        const code = (err as NodeJS.ErrnoException).code ?? null;
        const hint = code === 'EAFNOSUPPORT' || code === 'EPROTONOSUPPORT' ? NO_CAN_RAW_HINT : MAYBE_NO_CAN_RAW_HINT;
        const fields = { if: ifname, error: (err as Error).message, code, hint, retry_ms: retryMs };
        if (firstTime) this.sink?.log('warn', 'socketcan_open_failed', fields);
        this.state.set('absent', null, problem);
      },
      lost: (_sock, why) => {
        this.tx.clear('link_down');
        this.sink?.log('warn', 'socketcan_lost', { if: ifname, reason: why });
        // Whatever the link says now, the bus was just lost; the next look refines it.
        this.state.set('absent', this.state.tracker.set('down', why), why);
      },
      missing: (link) => {
        this.state.set('absent', this.state.tracker.link(link), link.present ? `${ifname} is down` : `${ifname} does not exist`);
      },
    };
  }

  private async opened(sock: CanSocketLike, reopen: boolean, link: LinkSnapshot): Promise<void> {
    this.info.fd = link.mtu >= CANFD_MTU;
    this.state.set('open', this.state.tracker.link({ present: true, up: true }), `${this.opts.ifname} open`);
    this.tx.kick();
    // Bitrate, controller state and setup warnings come from `ip -details` after the
    // socket is up, so reading them (a process spawn) never delays the reopen.
    const details = await this.readDetails(this.opts.ifname);
    if (sock !== this.supervisor.handle) return;
    this.info.bitrate = details?.bitrate ?? this.opts.bitrate;
    if (details) {
      for (const w of linkWarnings(details)) {
        if (this.warned.has(w.event)) continue;
        this.warned.add(w.event);
        this.sink?.log('warn', w.event, { if: this.opts.ifname, message: w.message });
      }
      if (details.canState) this.state.apply(this.state.tracker.link({ present: true, up: true, canState: details.canState }));
    }
    this.tuning.opened(sock);
    this.sink?.log('info', 'socketcan_open', {
      if: this.opts.ifname,
      mtu: link.mtu,
      fd: this.info.fd,
      bitrate: this.info.bitrate,
      kind: details?.kind ?? null,
      state: this.state.tracker.state,
      // what the kernel granted (it doubles the request for its own bookkeeping)
      rcvbuf: sock.info().rcvbuf,
      rxCoalesceMs: this.tuning.coalesceMs,
      reopen,
    });
  }

  private closeSocket(sock: CanSocketLike): void {
    this.pollKernelDrops(sock);
    this.kernelDrops.socketClosed();
    // Frames still in the kernel's queue die with the socket's device queue or never
    // get confirmed to us: they count as unconfirmed.
    this.confirmations.clear();
    sock.close();
  }

  // ---------------------------------------------------------------- frames and state

  private onBatch(sock: CanSocketLike, batch: Buffer | null, count: number, drops: number, errno: number, paced: boolean): void {
    this.kernelDrops.note(drops);
    if (batch && count > 0) this.reader.read(batch, count, paced);
    if (errno !== 0) {
      const name = errnoName(errno);
      this.supervisor.lose(sock, `socket error ${name}${LINK_GONE.has(name) ? ' (link down or interface removed)' : ''}`);
    }
  }

  private pollKernelDrops(sock: CanSocketLike | null = this.supervisor.handle): void {
    if (sock) this.kernelDrops.note(sock.kernelDrops());
  }
}

function confirmLimit(txMaxAge: number): number {
  return txMaxAge > 0 ? txMaxAge : CONFIRM_LIMIT_WITHOUT_MAX_AGE_MS;
}

export function createSocketCanBackend(opts: SocketCanBackendOptions): SocketCanBackend {
  return new SocketCanBackend(opts);
}
