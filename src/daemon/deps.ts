// What the daemon is built from (the composition root's inputs): everything comes in here,
// so tests run it with real sockets on port 0 and the virtual backend.
import type { CanBackend } from '../backends/types.js';
import type { Config } from '../config/options.js';
import type { BuildInfo } from '../system/build-info.js';
import type { Logger } from '../system/logger.js';
import type { DaemonService, ServiceInputs } from './services.js';

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
