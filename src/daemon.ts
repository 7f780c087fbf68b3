// Composition root: wires buses (backend → counters, load, taps → hub), the protocol
// listeners and sessions, and the services together. It holds no protocol, no counter and
// no schema of its own. Everything it needs comes in through `deps`, so tests run it with
// real sockets on port 0 and the virtual backend, and nothing here calls process.exit.
import { EventEmitter } from 'node:events';
import { Bus } from './bus/bus.js';
import { type Config, formatDuration, type ListenAddress, OPTION_NAMES, type OptionName, OPTIONS } from './config/options.js';
import type { CanBackend } from './backends/types.js';
import { rxCoalesceMs } from './backends/factory.js';
import type { DaemonEvent, DaemonEventKind, Snapshot } from './control/protocol.js';
import { turnClock } from './core/turn-clock.js';
import { type Reading, takeReading } from './daemon/snapshot.js';
import type { DaemonService, ServiceInputs } from './daemon/services.js';
import type { DaemonCounters } from './metrics/registry.js';
import { PLUGINS } from './protocols/registry.js';
import type { WireProtocol } from './protocols/types.js';
import type { ListenerInfo } from './server/listener-set.js';
import { type EnabledProtocol, Sessions } from './server/sessions.js';
import type { BuildInfo } from './system/build-info.js';
import type { Logger } from './system/logger.js';

export type { BuildInfo, DaemonCounters, DaemonService, ServiceInputs };
export { createStandardServices } from './daemon/services.js';
export { busAddress } from './server/listener-set.js';

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
   * The services, created once the listeners are bound (they get the bound addresses). Their
   * taps are attached before the buses start; they start after the buses and stop first.
   */
  services?: (inputs: ServiceInputs) => DaemonService[] | Promise<DaemonService[]>;
  /** Called once everything is up (systemd READY=1). */
  onReady?: () => void;
  /** TCP keepalive idle time; 10 s reaps vanished peers within about a minute. */
  keepAliveMs?: number;
}

export class Daemon {
  private readonly emitter = new EventEmitter();
  private buses: Bus[] = [];
  private sessionsOrNull: Sessions | null = null;
  private services: DaemonService[] = [];
  private readonly now: () => number;
  private readonly wall: () => number;
  private readonly startedAt: number;
  private started = false;
  private stopping: Promise<void> | null = null;
  /** The live settings: SIGHUP replaces them; read on every use. */
  private live: Config;

  constructor(
    readonly config: Config,
    private readonly deps: DaemonDeps,
  ) {
    this.live = config;
    this.now = deps.now ?? turnClock();
    this.wall = deps.wallClock ?? (() => performance.timeOrigin + performance.now());
    this.startedAt = this.wall();
    this.emitter.setMaxListeners(0);
  }

  get log(): Logger {
    return this.deps.log;
  }

  /**
   * Starts listeners, then backends, then services. Throws (after undoing what started) on
   * anything that prevents serving: a port in use, a backend that can never open.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('daemon already started');
    this.started = true;
    const { log } = this.deps;
    const emit = this.emit.bind(this);
    try {
      const backends = await this.deps.createBackends(this.config);
      this.buses = backends.map(
        (backend, index) =>
          new Bus({
            index,
            backend,
            hubCapacity: this.config.hubBuffer,
            hubPolicy: this.config.hubPolicy,
            settings: () => this.live,
            now: this.now,
            wallClock: this.wall,
            log,
            emit,
          }),
      );

      const sessions = new Sessions({
        buses: this.buses,
        protocols: await enabledProtocols(this.config),
        capacity: this.config.hubBuffer,
        settings: () => this.live,
        now: this.now,
        wallClock: this.wall,
        log,
        emit,
        keepAliveMs: this.deps.keepAliveMs ?? 10_000,
      });
      this.sessionsOrNull = sessions;
      // Listeners first: clients can connect (and see `absent`) while hardware is missing.
      await sessions.listen();
      this.services = this.deps.services ? await this.deps.services(this.serviceInputs()) : [];
      for (const s of this.services) if (s.tap) for (const bus of this.buses) bus.addTap(s.tap);
      for (const bus of this.buses) await bus.start();
      for (const s of this.services) await s.start();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
    log.info('ready', {
      backend: this.config.backend,
      buses: this.buses.map((b) => `${b.name}@${this.listenerOf(null, b.index)?.address ?? ''}`).join(','),
      listeners: this.listeners()
        .map((l) => `${l.protocol}:${l.bus === null ? 'all' : this.buses[l.bus].name}@${l.address}`)
        .join(','),
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
    const sessions = this.sessionsOrNull;
    if (sessions) {
      await sessions.stopListening();
      await sessions.closeAll(1500);
    }
    await Promise.all(this.buses.map((b) => b.stop().catch(() => {})));
    // Services last: once the buses are still, the capture store's final commit holds every
    // frame the buses counted, and the control socket answers until the very end.
    for (const s of [...this.services].reverse()) {
      await s.stop().catch((err) => this.deps.log.warn('service_stop_failed', { service: s.name, error: String(err) }));
    }
  }

  /** The buses (taps attach here: `daemon.bus(0).addTap(…)`). */
  bus(index: number): Bus | undefined {
    return this.buses[index];
  }

  /** Bound listeners of every protocol. */
  listeners(): ListenerInfo[] {
    return this.sessionsOrNull?.listenerInfo() ?? [];
  }

  /** Each bus's address: its first listener in registry order (the bus port every install has). */
  addresses(): string[] {
    return this.buses.map((b) => this.listenerOf(null, b.index)?.address ?? '');
  }

  /** Actual TCP port of bus `index` for `protocol`, by default its first listener (tests bind port 0). */
  port(index = 0, protocol: string | null = null): number {
    return this.listenerOf(protocol, index)?.port ?? 0;
  }

  busNames(): string[] {
    return this.buses.map((b) => b.name);
  }

  /** Whether every listener is bound and every backend open (for /ready). */
  readiness(): { ready: boolean; reason: string } {
    if (!this.started || this.stopping) return { ready: false, reason: 'not running' };
    for (const b of this.buses) {
      if (!this.listeners().some((l) => l.bus === b.index)) return { ready: false, reason: `${b.name}: listener not bound` };
      if (b.backendState !== 'open') return { ready: false, reason: `${b.name}: backend ${b.backendState}` };
      if (b.busState === 'bus-off') return { ready: false, reason: `${b.name}: bus-off` };
    }
    return { ready: true, reason: 'ready' };
  }

  onEvent(listener: (e: DaemonEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** A control-socket request some service owns (`ampio_state`); undefined = none does. */
  answer(request: Readonly<Record<string, unknown>>): unknown {
    for (const s of this.services) {
      const result = s.answer?.(request);
      if (result !== undefined) return result;
    }
    return undefined;
  }

  /** Closes client `id` (operator action from `top`). */
  kick(id: number): boolean {
    return this.sessionsOrNull?.kick(id) ?? false;
  }

  /**
   * Applies the reloadable settings (SIGHUP) and returns the names of those that changed.
   * Changed structural settings are logged as needing a restart; they keep their old value.
   */
  reload(next: Config): string[] {
    const changed: OptionName[] = [];
    const needRestart: OptionName[] = [];
    for (const name of OPTION_NAMES) {
      if (JSON.stringify(next[name]) === JSON.stringify(this.live[name])) continue;
      (OPTIONS[name].scope === 'reloadable' ? changed : needRestart).push(name);
    }
    const applied = { ...this.live } as Record<string, unknown>;
    for (const name of changed) applied[name] = next[name];
    this.live = Object.freeze(applied) as Config;
    for (const bus of this.buses) {
      // --tx-max-age also applies to frames already waiting in the backend's TX queue; the
      // read pacing follows --can-rx-coalesce and --flush-interval on the open socket.
      bus.backend.reconfigure?.({ txMaxAge: this.live.txMaxAge, rxCoalesceMs: rxCoalesceMs(this.live), rcvbuf: this.live.canRcvbuf });
      bus.hub.policy = this.live.hubPolicy;
    }
    this.sessionsOrNull?.reload(this.live);
    for (const s of this.services) {
      Promise.resolve(s.reload?.(this.live)).catch((err) => this.deps.log.warn('service_reload_failed', { service: s.name, error: String(err) }));
    }
    if (needRestart.length > 0) {
      // Flag names, as people write them in the config file and on the command line.
      const flags = needRestart.map((name) => OPTIONS[name].flag);
      this.deps.log.warn('reload_needs_restart', {
        settings: flags.join(','),
        message: `restart needed for: ${flags.join(', ')} (they keep their running values until "sudo systemctl restart ampio-bridge")`,
      });
    }
    return changed;
  }

  /** State and counters read together (one walk; one scrape = one reading). */
  reading(): Reading {
    const reading = takeReading({
      buses: this.buses,
      sessions: this.sessions,
      config: this.live,
      build: this.deps.build,
      hostname: this.deps.hostname,
      startedAt: this.startedAt,
      wallClock: this.wall(),
      controlSocketPath: this.deps.controlSocketPath,
    });
    for (const s of this.services) s.contribute?.(reading.snapshot);
    return reading;
  }

  snapshot(): Snapshot {
    return this.reading().snapshot;
  }

  counters(): DaemonCounters {
    return this.reading().counters;
  }

  // ------------------------------------------------------------------ internals

  private get sessions(): Sessions {
    if (!this.sessionsOrNull) throw new Error('daemon not started');
    return this.sessionsOrNull;
  }

  /** `protocol` null: the first per-bus listener of the bus. */
  private listenerOf(protocol: string | null, bus: number): ListenerInfo | undefined {
    if (protocol === null) return this.listeners().find((l) => l.bus === bus);
    return this.listeners().find((l) => l.protocol === protocol && (l.bus === bus || l.bus === null));
  }

  private serviceInputs(): ServiceInputs {
    return {
      config: this.config,
      build: this.deps.build,
      hostname: this.deps.hostname,
      log: this.deps.log,
      listeners: this.listeners(),
      buses: this.buses,
      source: this,
    };
  }

  private emit(kind: DaemonEventKind, fields: Omit<DaemonEvent, 'time' | 'kind'>): void {
    if (this.emitter.listenerCount('event') === 0) return;
    this.emitter.emit('event', { time: this.wall(), kind, ...fields } satisfies DaemonEvent);
  }
}

/** The protocols whose listen option (or dial-out target) is set, loaded (each module only when enabled). */
async function enabledProtocols(config: Config): Promise<EnabledProtocol[]> {
  const values = config as unknown as Record<string, unknown>;
  const enabled: EnabledProtocol[] = [];
  for (const plugin of PLUGINS) {
    const address = (values[plugin.listen] as ListenAddress | null | undefined) ?? null;
    const connect = plugin.connect ? ((values[plugin.connect] as ListenAddress | null | undefined) ?? null) : null;
    const peers = plugin.peers ? ((values[plugin.peers] as ListenAddress[] | undefined) ?? []) : [];
    if (address || connect) enabled.push({ protocol: await plugin.load(values as never), address, connect, peers });
  }
  return enabled;
}

export function createDaemon(config: Config, deps: DaemonDeps): Daemon {
  return new Daemon(config, deps);
}
