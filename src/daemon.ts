// Composition root: wires buses (backend → counters, load, taps → hub), the protocol
// listeners and sessions, and the services together. It holds no protocol, no counter and
// no schema of its own. Everything it needs comes in through `deps`, so tests run it with
// real sockets on port 0 and the virtual backend, and nothing here calls process.exit.
import { EventEmitter } from 'node:events';
import { Bus } from './bus/bus.js';
import type { Config } from './config/options.js';
import { busReadiness, readyFields } from './daemon/readiness.js';
import { applyReload } from './daemon/reload.js';
import { ServiceSet } from './daemon/service-set.js';
import type { DaemonEvent, DaemonEventKind, Snapshot } from './control/protocol.js';
import { turnClock } from './core/turn-clock.js';
import { type Reading, takeReading } from './daemon/snapshot.js';
import type { DaemonDeps } from './daemon/deps.js';
import type { DaemonService, ServiceInputs } from './daemon/services.js';
import type { DaemonCounters } from './metrics/metrics-source.js';
import { enabledProtocols } from './daemon/enabled-protocols.js';
import type { ListenerInfo } from './server/listener-set.js';
import { FlushScheduler } from './server/flush-scheduler.js';
import { Sessions } from './server/sessions.js';
import type { BuildInfo } from './system/build-info.js';

export type { BuildInfo, DaemonCounters, DaemonDeps, DaemonService, ServiceInputs };
export { createStandardServices } from './daemon/services.js';
export { busAddress } from './server/listener-set.js';

export class Daemon {
  private readonly emitter = new EventEmitter();
  private buses: Bus[] = [];
  private sessionsOrNull: Sessions | null = null;
  private services: ServiceSet;
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
    this.services = new ServiceSet([], deps.log);
    this.now = deps.now ?? turnClock();
    this.wall = deps.wallClock ?? (() => performance.timeOrigin + performance.now());
    this.startedAt = this.wall();
    this.emitter.setMaxListeners(0);
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
      // One flush scheduler per bus, shared by the bus (paced reads) and its sessions.
      const schedulers = backends.map(() => new FlushScheduler(this.now));
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
            pacing: schedulers[index].pacing,
          }),
      );

      const sessions = new Sessions({
        buses: this.buses,
        schedulers,
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
      this.services = new ServiceSet(this.deps.services ? await this.deps.services(this.serviceInputs()) : [], log);
      this.services.attach(this.buses);
      for (const bus of this.buses) await bus.start();
      await this.services.start();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
    log.info('ready', readyFields(this.config, this.buses, this.listeners(), this.addresses()));
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
    await this.services.stop();
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
    return busReadiness(this.buses, this.listeners());
  }

  onEvent(listener: (e: DaemonEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** A control-socket request some service owns (`ampio_state`); undefined = none does. */
  answer(request: Readonly<Record<string, unknown>>): unknown {
    return this.services.answer(request);
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
    const { config, changed } = applyReload(this.live, next, this.deps.log);
    this.live = config;
    for (const bus of this.buses) {
      // Each backend takes the settings it has (TX age, read pacing, receive buffer) itself.
      bus.backend.reconfigure?.(this.live);
      bus.hub.policy = this.live.hubPolicy;
    }
    this.sessionsOrNull?.reload(this.live);
    this.services.reload(this.live);
    return changed;
  }

  /** State and counters read together (one walk; one scrape = one reading). */
  reading(): Reading {
    const reading = takeReading({
      buses: this.buses,
      sessions: this.sessionsOrNull ?? notStarted(),
      config: this.live,
      build: this.deps.build,
      hostname: this.deps.hostname,
      startedAt: this.startedAt,
      wallClock: this.wall(),
      controlSocketPath: this.deps.controlSocketPath,
    });
    this.services.contribute(reading.snapshot);
    return reading;
  }

  snapshot(): Snapshot {
    return this.reading().snapshot;
  }

  counters(): DaemonCounters {
    return this.reading().counters;
  }

  // ------------------------------------------------------------------ internals

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

function notStarted(): never {
  throw new Error('daemon not started');
}

export function createDaemon(config: Config, deps: DaemonDeps): Daemon {
  return new Daemon(config, deps);
}
