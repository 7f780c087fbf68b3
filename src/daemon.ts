// Composition root: wires backends, hubs, TCP listeners, the control socket, metrics and
// mDNS together. Everything it needs comes in through `deps`, so tests run it with real
// sockets on port 0 and the virtual backend, and nothing here calls process.exit.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { type Config, formatDuration, formatListen, type ListenAddress } from './config/options.js';
import { encodeFrame, toHex } from './core/cannelloni.js';
import { CAN_ERR_FLAG, type CanFrame } from './core/frame.js';
import { Hub } from './core/hub.js';
import { RateMeter } from './core/rate-meter.js';
import { BusLoadMeter } from './core/bus-load.js';
import type { BackendState, BusState, CanBackend, DropReason } from './backends/types.js';
import type { BusSnapshot, ClientSnapshot, DaemonEvent, DaemonEventKind, Snapshot, Totals } from './control/protocol.js';
import { ClientConnection, type CloseReason } from './server/client-connection.js';
import { FlushScheduler } from './server/flush-scheduler.js';
import { formatAddress, remoteOf, TcpListener } from './server/tcp-server.js';
import type { Logger } from './system/logger.js';
import type { DaemonCounters } from './metrics/registry.js';
import { mdnsInstanceNames } from './system/mdns.js';

export interface BuildInfo {
  version: string;
  commit: string | null;
  date: string | null;
}

/** A part of the daemon with its own lifecycle (control socket, metrics HTTP, mDNS …). */
export interface DaemonService {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonDeps {
  log: Logger;
  /** Creates one backend per bus (the factory decides socketcan/serial/virtual). */
  createBackends(config: Config): Promise<CanBackend[]> | CanBackend[];
  build: BuildInfo;
  hostname: string;
  /** Monotonic ms. */
  now?: () => number;
  /** Wall-clock ms since the epoch. */
  wallClock?: () => number;
  /** Control socket path (resolved by the caller); null = none. */
  controlSocketPath: string | null;
  /**
   * Extra services started after the listeners are bound and stopped first. serve.ts
   * passes control socket, metrics and mDNS here through `createStandardServices`.
   */
  services?: (daemon: Daemon) => DaemonService[] | Promise<DaemonService[]>;
  /** Called once everything is up (systemd READY=1). */
  onReady?: () => void;
  /** TCP keepalive idle time; 10 s reaps vanished peers within about a minute. */
  keepAliveMs?: number;
}

type DropCounts = Record<string, number>;

/** Counters the snapshot does not carry (Prometheus, the metrics log): defined next to their consumer. */
export type { DaemonCounters };

class BusRuntime {
  readonly hub: Hub;
  listener: TcpListener | null = null;
  listen = '';
  backendState: BackendState = 'opening';
  busState: BusState = 'unknown';
  stateSince: number;
  rxFrames = 0;
  txFrames = 0;
  errorFrames = 0;
  stateTransitions = 0;
  readonly errorCounters: Record<string, number> = {};
  /** Frames toward the bus given up, by reason. */
  readonly txDrops: DropCounts = {};
  /** Frames toward clients given up (hub full), by reason. */
  readonly rxDrops: DropCounts = {};
  lastRxAt = 0;
  readonly rxRate: RateMeter;
  readonly txRate: RateMeter;
  /** Exact-bit bus load of RX + own TX over 1 s, with a 60 s history (user-needs #16). */
  readonly load: BusLoadMeter;
  readonly clients = new Set<ClientConnection>();
  /** One flush timer for all clients of the bus: their batches start together. */
  readonly flushScheduler: FlushScheduler;
  /** framesOut of clients that are gone (tcp_tx_frames_total keeps counting them). */
  closedFramesOut = 0;

  constructor(
    readonly index: number,
    readonly backend: CanBackend,
    readonly address: ListenAddress,
    hub: Hub,
    now: () => number,
    wall: number,
  ) {
    this.hub = hub;
    this.stateSince = wall;
    this.rxRate = new RateMeter(now);
    this.txRate = new RateMeter(now);
    this.load = new BusLoadMeter({ now, bitrate: backend.info.bitrate });
    this.flushScheduler = new FlushScheduler(now);
  }

  /** The backend may learn the bitrate only once open (socketcan reads it from the link). */
  syncBitrate(): void {
    this.load.setBitrate(this.backend.info.bitrate);
  }

  get name(): string {
    return this.backend.info.name;
  }
}

export class Daemon {
  private readonly emitter = new EventEmitter();
  private readonly buses: BusRuntime[] = [];
  private services: DaemonService[] = [];
  private nextClientId = 1;
  private readonly now: () => number;
  private readonly wall: () => number;
  private readonly startedAt: number;
  private started = false;
  private stopping: Promise<void> | null = null;
  private readonly totals: Totals = { active: 0, accepted: 0, rejected: 0, kicked: 0, handshakeFailures: 0, malformed: 0, hubDrops: 0 };
  private tcpRxFrames = 0;
  private readonly errorsByWhere: Record<string, number> = {};
  private readonly handshakeFailuresByReason: Record<string, number> = {};
  /** Runtime-changeable settings (SIGHUP): read on every use. */
  private settings: Config;

  constructor(
    readonly config: Config,
    private readonly deps: DaemonDeps,
  ) {
    this.settings = config;
    this.now = deps.now ?? (() => performance.now());
    this.wall = deps.wallClock ?? (() => performance.timeOrigin + performance.now());
    this.startedAt = this.wall();
    this.emitter.setMaxListeners(0);
  }

  get log(): Logger {
    return this.deps.log;
  }

  /**
   * Starts backends, then listeners, then services. Throws (after undoing what started)
   * on anything that prevents serving: a port in use, a backend that can never open.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('daemon already started');
    this.started = true;
    const { log } = this.deps;
    try {
      const backends = await this.deps.createBackends(this.config);
      backends.forEach((backend, index) => {
        const address = busAddress(this.config.listen, index);
        const hub = new Hub({
          capacity: this.config.hubBuffer,
          policy: this.config.hubPolicy,
          onDrop: () => {
            this.totals.hubDrops++;
          },
          onKick: (sub) => {
            this.totals.kicked++;
            const c = sub as ClientConnection;
            log.warn('client_kicked', { conn_id: c.id, remote: c.remote, bus: backend.info.name, reason: 'slow', queue: this.config.hubBuffer });
            this.emit('client_kicked', { bus: backend.info.name, clientId: c.id, remote: c.remote, reason: 'slow', message: `client ${c.id} (${c.remote}) kicked: its queue of ${this.config.hubBuffer} frames was full` });
          },
        });
        this.buses.push(new BusRuntime(index, backend, address, hub, this.now, this.wall()));
      });

      // Listeners first: clients can connect (and see `absent`) while hardware is missing.
      for (const bus of this.buses) {
        bus.listener = new TcpListener({
          address: bus.address,
          keepAliveMs: this.deps.keepAliveMs ?? 10_000,
          admit: () => this.settings.maxClients === 0 || bus.clients.size < this.settings.maxClients,
          onRefused: (socket) => this.onRefused(bus, socket),
          onConnection: (socket) => this.onConnection(bus, socket),
        });
        const bound = await bus.listener.start();
        bus.listen = formatAddress(bound);
        log.info('tcp_listen', { addr: bus.listen, bus: bus.name });
      }

      for (const bus of this.buses) {
        await bus.backend.start(this.sinkFor(bus));
      }

      this.services = this.deps.services ? await this.deps.services(this) : [];
      for (const s of this.services) await s.start();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
    log.info('ready', {
      backend: this.config.backend,
      buses: this.buses.map((b) => `${b.name}@${b.listen}`).join(','),
      hub_buffer: this.config.hubBuffer,
      hub_policy: this.config.hubPolicy,
      flush_interval: formatDuration(this.config.flushInterval),
      batch_size: this.config.batchSize,
    });
    this.deps.onReady?.();
  }

  /**
   * Graceful stop: stop accepting, flush what is queued, close clients, stop backends.
   * Bounded: clients that do not close within 1.5 s are destroyed.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const s of [...this.services].reverse()) {
      await s.stop().catch((err) => this.deps.log.warn('service_stop_failed', { service: s.name, error: String(err) }));
    }
    await Promise.all(this.buses.map((b) => b.listener?.stop()));
    const closing: Promise<void>[] = [];
    for (const bus of this.buses) {
      for (const c of bus.clients) {
        c.close('shutdown');
        closing.push(c.whenClosed());
      }
    }
    await Promise.race([Promise.all(closing), delay(1500)]);
    for (const bus of this.buses) for (const c of bus.clients) c.destroy();
    await Promise.all(this.buses.map((b) => b.backend.stop().catch(() => {})));
  }

  /** Effective listen addresses, one per bus. */
  addresses(): string[] {
    return this.buses.map((b) => b.listen);
  }

  /** Actual TCP port of bus `index` (tests bind port 0). */
  port(index = 0): number {
    return this.buses[index]?.listener?.address?.port ?? 0;
  }

  busNames(): string[] {
    return this.buses.map((b) => b.name);
  }

  /** Whether every listener is bound and every backend open (for /ready). */
  readiness(): { ready: boolean; reason: string } {
    if (!this.started || this.stopping) return { ready: false, reason: 'not running' };
    for (const b of this.buses) {
      if (!b.listener?.address) return { ready: false, reason: `${b.name}: listener not bound` };
      if (b.backendState !== 'open') return { ready: false, reason: `${b.name}: backend ${b.backendState}` };
      if (b.busState === 'bus-off') return { ready: false, reason: `${b.name}: bus-off` };
    }
    return { ready: true, reason: 'ready' };
  }

  onEvent(listener: (e: DaemonEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Closes TCP client `id` (operator action from `top`). */
  kick(id: number): boolean {
    for (const bus of this.buses) {
      for (const c of bus.clients) {
        if (c.id === id && !c.isClosing) {
          this.totals.kicked++;
          bus.hub.remove(c);
          this.deps.log.warn('client_kicked', { conn_id: c.id, remote: c.remote, bus: bus.name, reason: 'operator' });
          this.emit('client_kicked', { bus: bus.name, clientId: c.id, remote: c.remote, reason: 'operator', message: `client ${c.id} (${c.remote}) kicked by the operator` });
          c.close('kicked_by_operator');
          return true;
        }
      }
    }
    return false;
  }

  /** Applies reloadable settings (SIGHUP). Structural ones need a restart. */
  reload(next: Config): string[] {
    const changed: string[] = [];
    for (const key of ['maxClients', 'hubPolicy', 'batchSize', 'flushInterval', 'echo', 'forwardErrors', 'handshakeTimeout', 'clientReadTimeout', 'logLevel', 'txMaxAge'] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(this.settings[key])) changed.push(key);
    }
    this.settings = next;
    for (const bus of this.buses) {
      // --tx-max-age also applies to frames already waiting in the backend's TX queue.
      bus.backend.reconfigure?.({ txMaxAge: next.txMaxAge });
      bus.hub.policy = next.hubPolicy;
      for (const c of bus.clients) {
        c.batchSize = next.batchSize;
        c.flushInterval = next.flushInterval;
        c.readTimeout = next.clientReadTimeout;
      }
    }
    return changed;
  }

  counters(): DaemonCounters {
    let tcpTx = 0;
    let depthMax = 0;
    let depthSum = 0;
    let n = 0;
    let fanout = 0;
    const drops: DaemonCounters['drops'] = [];
    const busLoad: DaemonCounters['busLoad'] = [];
    for (const bus of this.buses) {
      bus.syncBitrate();
      const now = bus.load.reading();
      if (now.bitrateKnown) {
        const minute = bus.load.historyAverage();
        busLoad.push({ bus: bus.name, window: '1s', exact: now.exact, min: now.min, max: now.max });
        busLoad.push({ bus: bus.name, window: '60s', exact: minute.exact, min: minute.min, max: minute.max });
      }
      tcpTx += bus.closedFramesOut;
      for (const c of bus.clients) {
        tcpTx += c.framesOut;
        const d = c.queueDepth();
        if (d > depthMax) depthMax = d;
        depthSum += d;
        n++;
      }
      fanout += bus.hub.counters.lastFanout;
      for (const [reason, count] of Object.entries(bus.txDrops)) drops.push({ bus: bus.name, direction: 'to_bus', reason, count });
      for (const [reason, count] of Object.entries(bus.rxDrops)) drops.push({ bus: bus.name, direction: 'to_clients', reason, count });
      if (bus.hub.counters.dropped > 0) drops.push({ bus: bus.name, direction: 'to_clients', reason: 'client_slow', count: bus.hub.counters.dropped });
    }
    return {
      tcpRxFrames: this.tcpRxFrames,
      tcpTxFrames: tcpTx,
      errorsByWhere: { ...this.errorsByWhere },
      handshakeFailuresByReason: { ...this.handshakeFailuresByReason },
      drops,
      hubFanout: fanout,
      hubQueueDepthMax: depthMax,
      hubQueueDepthAvg: n ? depthSum / n : 0,
      busLoad,
    };
  }

  snapshot(): Snapshot {
    const wall = this.wall();
    const buses: BusSnapshot[] = this.buses.map((b) => {
      const bc = b.backend.counters();
      b.syncBitrate();
      return {
        name: b.name,
        backend: b.backend.info.kind,
        listen: b.listen,
        backendState: b.backendState,
        busState: b.busState,
        stateSince: b.stateSince,
        bitrate: b.backend.info.bitrate,
        fd: b.backend.info.fd,
        rxFrames: b.rxFrames,
        txFrames: b.txFrames,
        rxFps: b.rxRate.perSecond(),
        txFps: b.txRate.perSecond(),
        busLoad: Math.round(b.load.reading().exact * 10_000) / 100,
        busLoadHistory: b.load.historyPercent(),
        errorFrames: b.errorFrames,
        // The hardware backends count error frames by class; the daemon counts entries into
        // each bus state (what the virtual backend can report).
        errorCounters: bc.errorCounters ? { ...bc.errorCounters } : { ...b.errorCounters },
        stateTransitions: b.stateTransitions,
        txQueueDepth: bc.txQueueDepth,
        txRetries: bc.txBusy ?? 0,
        staleDrops: b.txDrops.stale ?? 0,
        txDrops: { ...b.txDrops },
        reopens: bc.reopens,
        rxKernelDrops: bc.rxKernelDrops ?? 0,
        txUnconfirmed: bc.txUnconfirmed ?? 0,
        lastRxAgeSec: b.lastRxAt ? Math.max(0, (wall - b.lastRxAt) / 1000) : null,
        clients: b.clients.size,
      };
    });
    const clients: ClientSnapshot[] = [];
    for (const b of this.buses) {
      for (const c of b.clients) {
        if (!c.isHandshaken) continue;
        clients.push({
          id: c.id,
          bus: b.name,
          remote: c.remote,
          connectedAt: c.connectedAt,
          framesOut: c.framesOut,
          framesIn: c.framesIn,
          bytesOut: c.bytesOut,
          bytesIn: c.bytesIn,
          queueDepth: c.queueDepth(),
          queueHighWater: c.highWater,
          queueCapacity: c.capacity,
          drops: c.drops,
        });
      }
    }
    const cfg = this.settings;
    return {
      time: wall,
      daemon: {
        name: 'ampio-bridge',
        version: this.deps.build.version,
        commit: this.deps.build.commit,
        buildDate: this.deps.build.date,
        pid: process.pid,
        hostname: this.deps.hostname,
        startedAt: this.startedAt,
        uptimeSec: Math.max(0, (wall - this.startedAt) / 1000),
        backend: cfg.backend,
        listen: this.addresses(),
        mdnsName: cfg.mdnsEnable ? mdnsInstanceNames(cfg.mdnsName, this.deps.hostname, this.busNames()).join(', ') : null,
        metricsAddr: cfg.metricsAddr ? formatListen(cfg.metricsAddr) : null,
        controlSocket: this.deps.controlSocketPath ?? '',
        config: {
          'hub-buffer': cfg.hubBuffer,
          'hub-policy': cfg.hubPolicy,
          'batch-size': cfg.batchSize,
          'flush-interval': formatDuration(cfg.flushInterval),
          'max-clients': cfg.maxClients,
          echo: cfg.echo,
          'tx-max-age': formatDuration(cfg.txMaxAge),
          'forward-errors': cfg.forwardErrors,
          'mdns-enable': cfg.mdnsEnable,
        },
      },
      buses,
      clients,
      totals: { ...this.totals, active: clients.length },
    };
  }

  // ------------------------------------------------------------------ internals

  private emit(kind: DaemonEventKind, fields: Omit<DaemonEvent, 'time' | 'kind'>): void {
    if (this.emitter.listenerCount('event') === 0) return;
    this.emitter.emit('event', { time: this.wall(), kind, ...fields } satisfies DaemonEvent);
  }

  private countError(where: string): void {
    this.errorsByWhere[where] = (this.errorsByWhere[where] ?? 0) + 1;
  }

  private onRefused(bus: BusRuntime, socket: Socket): void {
    this.totals.rejected++;
    const remote = remoteOf(socket);
    this.deps.log.warn('client_reject_max', { remote, bus: bus.name, max_clients: this.settings.maxClients });
    this.emit('client_rejected', { bus: bus.name, remote, reason: 'max_clients', message: `client ${remote} rejected: ${this.settings.maxClients} clients already connected` });
  }

  private onConnection(bus: BusRuntime, socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const id = this.nextClientId++;
    const log = this.deps.log;
    const cfg = this.settings;
    const conn = new ClientConnection({
      id,
      socket,
      remote: remoteOf(socket),
      capacity: this.config.hubBuffer,
      batchSize: cfg.batchSize,
      flushInterval: cfg.flushInterval,
      handshakeTimeout: cfg.handshakeTimeout,
      readTimeout: cfg.clientReadTimeout,
      now: this.now,
      wallClock: this.wall,
      flushScheduler: bus.flushScheduler,
      events: {
        handshakeDone: (c) => {
          this.totals.accepted++;
          bus.hub.add(c);
          log.info('client_connected', { conn_id: c.id, remote: c.remote, bus: bus.name });
          this.emit('client_connected', { bus: bus.name, clientId: c.id, remote: c.remote, message: `client ${c.id} connected from ${c.remote}` });
        },
        handshakeFailed: (c, reason, received) => {
          this.totals.handshakeFailures++;
          this.handshakeFailuresByReason[reason] = (this.handshakeFailuresByReason[reason] ?? 0) + 1;
          this.countError('handshake');
          log.warn('handshake_failed', { conn_id: c.id, remote: c.remote, bus: bus.name, reason, received_hex: toHex(received) });
          this.emit('handshake_failed', { bus: bus.name, clientId: c.id, remote: c.remote, reason, message: `client ${c.remote}: handshake failed (${reason === 'timeout' ? 'no hello in time' : 'wrong hello'})` });
        },
        frame: (c, frame) => this.fromClient(bus, c, frame),
        malformed: (c, err) => {
          this.totals.malformed++;
          this.countError('decode');
          log.warn('malformed_frame', { conn_id: c.id, remote: c.remote, bus: bus.name, reason: err.code, error: err.message, bytes_hex: toHex(err.bytes) });
        },
        closed: (c, reason) => this.onClosed(bus, c, reason),
      },
    });
    bus.clients.add(conn);
    conn.start();
  }

  private onClosed(bus: BusRuntime, c: ClientConnection, reason: CloseReason): void {
    if (!bus.clients.delete(c)) return;
    bus.hub.remove(c);
    bus.closedFramesOut += c.framesOut;
    if (!c.isHandshaken) return; // handshake failures were logged as such
    if (reason === 'socket_error') this.countError('socket');
    const fields = { conn_id: c.id, remote: c.remote, bus: bus.name, reason, frames_out: c.framesOut, frames_in: c.framesIn, drops: c.drops };
    this.deps.log.info('client_disconnected', fields);
    if (reason !== 'kicked_slow' && reason !== 'kicked_by_operator') {
      this.emit('client_disconnected', { bus: bus.name, clientId: c.id, remote: c.remote, reason, message: `client ${c.id} (${c.remote}) disconnected: ${reason.replace(/_/g, ' ')}` });
    }
  }

  private fromClient(bus: BusRuntime, c: ClientConnection, frame: CanFrame): void {
    this.tcpRxFrames++;
    if ((frame.id & CAN_ERR_FLAG) !== 0) {
      // Error frames describe a controller's state; a client cannot put one on the bus.
      this.dropToBus(bus, 'filtered');
      return;
    }
    const r = bus.backend.send(frame, c.id);
    if (!r.ok) this.dropToBus(bus, r.reason);
  }

  private dropToBus(bus: BusRuntime, reason: DropReason, count = 1): void {
    bus.txDrops[reason] = (bus.txDrops[reason] ?? 0) + count;
  }

  private sinkFor(bus: BusRuntime) {
    const log = this.deps.log.child({ bus: bus.name });
    return {
      received: (frame: CanFrame): void => {
        bus.rxFrames++;
        bus.rxRate.add();
        bus.lastRxAt = frame.timestamp || this.wall();
        if ((frame.id & CAN_ERR_FLAG) !== 0) {
          bus.errorFrames++;
          if (!this.settings.forwardErrors) return;
        } else {
          bus.load.record(frame, 'rx');
        }
        if (bus.hub.size === 0) return;
        bus.hub.broadcast(frame, encodeFrame(frame), 0);
      },
      transmitted: (frame: CanFrame, origin: number): void => {
        bus.txFrames++;
        bus.txRate.add();
        bus.load.record(frame, 'tx');
        // As on a real bus, every other node sees the frame, but only once it was sent.
        if (this.settings.echo === 'others' && bus.hub.size > 0) bus.hub.broadcast(frame, encodeFrame(frame), origin);
      },
      dropped: (reason: DropReason, count: number): void => this.dropToBus(bus, reason, count),
      stateChanged: (backend: BackendState, busState: BusState, detail?: string): void => {
        const prevBackend = bus.backendState;
        const prevBus = bus.busState;
        if (prevBackend === backend && prevBus === busState) return;
        bus.backendState = backend;
        bus.busState = busState;
        bus.stateSince = this.wall();
        if (prevBus !== busState) {
          bus.stateTransitions++;
          bus.errorCounters[busState] = (bus.errorCounters[busState] ?? 0) + 1;
          log.info('bus_state', { from: prevBus, to: busState, detail });
          this.emit('bus_state', { bus: bus.name, from: prevBus, to: busState, message: `${bus.name}: ${prevBus} → ${busState}${detail ? ` (${detail})` : ''}` });
        }
        if (backend === 'absent' && prevBackend !== 'absent') {
          log.warn('backend_absent', { detail });
          this.emit('backend_absent', { bus: bus.name, reason: detail, message: `${bus.name}: device absent${detail ? ` (${detail})` : ''}; retrying` });
        } else if (backend === 'open' && prevBackend === 'absent') {
          log.info('backend_reopened', { detail });
          this.emit('backend_reopened', { bus: bus.name, message: `${bus.name}: device back, reopened` });
        }
      },
      malformed: (count: number): void => {
        this.totals.malformed += count;
        this.errorsByWhere.backend_decode = (this.errorsByWhere.backend_decode ?? 0) + count;
      },
      log: (level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void => {
        log[level](event, fields);
      },
    };
  }
}

/** Bus `index` listens on the configured port + index (port 0 stays 0: ephemeral). */
export function busAddress(base: ListenAddress, index: number): ListenAddress {
  return { host: base.host, port: base.port === 0 ? 0 : base.port + index };
}

export function createDaemon(config: Config, deps: DaemonDeps): Daemon {
  return new Daemon(config, deps);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// ---------------------------------------------------------------- standard services

export interface StandardServiceOptions {
  controlSocketPath: string | null;
  env: Record<string, string | undefined>;
}

/**
 * The services `serve` runs beside the buses: the control socket (for `status`/`top`),
 * and, when configured, Prometheus metrics and mDNS. Imported lazily: a test daemon that
 * needs none of them loads none of them.
 */
export async function createStandardServices(daemon: Daemon, options: StandardServiceOptions): Promise<DaemonService[]> {
  const services: DaemonService[] = [];
  const log = daemon.log;
  if (options.controlSocketPath) {
    const { createControlServer } = await import('./control/control-server.js');
    const server = createControlServer({
      path: options.controlSocketPath,
      source: daemon,
      helloInfo: { daemon: daemon.snapshot().daemon.version, pid: process.pid },
      log: (level, event, fields) => log[level](event, fields),
    });
    services.push({
      name: 'control',
      start: () => server.start(),
      stop: () => server.stop(),
    });
  }
  const config = daemon.config;
  const info = daemon.snapshot().daemon;
  const build = { version: info.version, commit: info.commit, date: info.buildDate };
  const logAt = (level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void => log[level](event, fields);
  if (config.metricsAddr) {
    const { createMetricsRegistry } = await import('./metrics/registry.js');
    const { createMetricsHttpServer } = await import('./metrics/http.js');
    const registry = createMetricsRegistry({ source: daemon, build, defaultMetrics: true });
    const http = createMetricsHttpServer({
      host: config.metricsAddr.host,
      port: config.metricsAddr.port,
      registry,
      readiness: () => daemon.readiness(),
      log: logAt,
    });
    services.push({ name: 'metrics', start: async () => void (await http.start()), stop: () => http.stop() });
  }
  if (config.logMetricsInterval > 0) {
    const { createMetricsLogger } = await import('./metrics/log-metrics.js');
    const logger = createMetricsLogger({ source: daemon, intervalMs: config.logMetricsInterval, log: logAt });
    services.push({ name: 'log-metrics', start: async () => logger.start(), stop: async () => logger.stop() });
  }
  if (config.mdnsEnable) {
    const { createMdnsAdvertiser } = await import('./system/mdns.js');
    const snap = daemon.snapshot();
    const advertiser = createMdnsAdvertiser({
      name: config.mdnsName,
      hostname: info.hostname,
      backend: config.backend,
      version: build.version,
      listeners: snap.buses.map((b, i) => ({ bus: b.name, host: config.listen.host, port: daemon.port(i), bitrate: b.bitrate })),
      log: logAt,
    });
    services.push({ name: 'mdns', start: () => advertiser.start(), stop: () => advertiser.stop() });
  }
  return services;
}
