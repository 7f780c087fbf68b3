// The one shape every service of the daemon has (capture, the control socket, the web page,
// MQTT, mDNS …) and what it is handed: here, on the services' own floor, so a service names
// its contract without importing the daemon that runs it.
import type { Config } from '../config/options.js';
import type { DropReason, SendResult } from '../core/backend-vocabulary.js';
import type { CanFrame } from '../core/frame.js';
import type { FrameTap, TapOrigin } from '../core/frame-tap.js';
import type { ControlSource } from '../control/control-server.js';
import type { Snapshot } from '../control/protocol.js';
import type { Readiness } from '../metrics/http.js';
import type { MetricsSource } from '../metrics/metrics-source.js';
import type { ListenerInfo } from '../server/listener-set.js';
import type { BuildInfo } from '../system/build-info.js';
import type { Logger } from '../system/logger.js';

/**
 * A part of the daemon with its own lifecycle (capture, control socket, metrics HTTP, mDNS,
 * the house decoder …). One shape for all of them, handed to the daemon once: the daemon
 * attaches the tap to every bus before the buses start, starts the services after the
 * buses, asks each for its snapshot section on every reading, and stops them in reverse.
 */
export interface DaemonService {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Applies reloadable settings (SIGHUP); optional. */
  reload?(config: Config): void | Promise<void>;
  /** Sees every frame of every bus, both directions (attached before the buses start). */
  readonly tap?: FrameTap;
  /** Writes this service's section into a snapshot being taken (e.g. `capture`). */
  contribute?(snapshot: Snapshot): void;
  /**
   * Answers a control-socket request of a type this service owns (e.g. `ampio_state`);
   * undefined = not its type. Kept out of the snapshot where the answer is large.
   */
  answer?(request: Readonly<Record<string, unknown>>): unknown;
}

/** What a service sees of a bus. */
export interface ServiceBus {
  readonly index: number;
  readonly name: string;
  bitrate(): number | null;
  send(frame: CanFrame, origin: TapOrigin): SendResult;
  refuseFromClient(frame: CanFrame, reason: DropReason, origin: TapOrigin): SendResult;
}

/** Everything a service may need, handed over explicitly once the listeners are bound. */
export interface ServiceInputs {
  config: Config;
  build: BuildInfo;
  hostname: string;
  log: Logger;
  /** Bound listeners, every protocol. */
  listeners: readonly ListenerInfo[];
  /**
   * The buses, in bus order: names and bitrates, and the TX path a service that puts frames
   * on the bus (MQTT commands) goes through like any client: send, or count a refusal.
   */
  buses: ReadonlyArray<ServiceBus>;
  source: ControlSource & MetricsSource & { readiness(): Readiness };
}
