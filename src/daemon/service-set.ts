// The daemon's services as one set, all of one shape (DaemonService): their taps go on every
// bus before the buses start, they start after the buses and stop first (in reverse order),
// and each is asked in turn for its snapshot section, its reload and its control requests.
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/options.js';
import type { Snapshot } from '../control/protocol.js';
import type { Logger } from '../system/logger.js';
import type { DaemonService } from './services.js';

export class ServiceSet {
  constructor(
    private readonly list: readonly DaemonService[],
    private readonly log: Logger,
  ) {}

  /** Puts every service's tap on every bus (before the buses start: no frame is missed). */
  attach(buses: readonly Bus[]): void {
    for (const s of this.list) if (s.tap) for (const bus of buses) bus.addTap(s.tap);
  }

  async start(): Promise<void> {
    for (const s of this.list) await s.start();
  }

  /** In reverse order; a service that fails to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    for (const s of [...this.list].reverse()) {
      await s.stop().catch((err) => this.log.warn('service_stop_failed', { service: s.name, error: String(err) }));
    }
  }

  reload(config: Config): void {
    for (const s of this.list) {
      Promise.resolve(s.reload?.(config)).catch((err) => this.log.warn('service_reload_failed', { service: s.name, error: String(err) }));
    }
  }

  contribute(snapshot: Snapshot): void {
    for (const s of this.list) s.contribute?.(snapshot);
  }

  /** A control-socket request some service owns (`ampio_state`); undefined = none does. */
  answer(request: Readonly<Record<string, unknown>>): unknown {
    for (const s of this.list) {
      const result = s.answer?.(request);
      if (result !== undefined) return result;
    }
    return undefined;
  }
}
