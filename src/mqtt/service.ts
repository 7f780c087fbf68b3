// The MQTT service of `serve` (--mqtt-url): a daemon service like capture, never a session.
// It reads the house from the ampio view and the bridge's figures from snapshots, keeps the
// broker's retained topics current, takes commands through the ordinary TX path, and, with
// --mqtt-raw, taps the buses. A slow or absent broker costs the bus nothing: every queue here
// is bounded (retained topics by the size of the house, raw frames by a count) and what is
// given up is counted.
import { randomBytes } from 'node:crypto';
import type { AmpioView, CommandEncoders } from '../ampio/types.js';
import type { Config } from '../config/options.js';
import type { Snapshot } from '../control/protocol.js';
import type { LogFn } from '../core/log-fn.js';
import type { DaemonService, ServiceBus } from '../service/contract.js';
import { CommandHandler } from './command-handler.js';
import { HousePublisher } from './house-publisher.js';
import { MqttLink } from './link.js';
import { redactMqttUrl } from '../config/options-mqtt.js';
import { RawTap } from './raw-tap.js';
import { RetainedSet } from './retained-set.js';
import type { MqttSnapshot } from '../control/mqtt-snapshot.js';
import { AVAILABILITY, commandFilter, defaultPrefix } from './topics.js';

export interface MqttServiceOptions {
  config: Config;
  hostname: string;
  version: string;
  buses: readonly ServiceBus[];
  /** The house (state store, modules, house file); null when the decoder is not running. */
  view: AmpioView | null;
  encoders: CommandEncoders | null;
  /** The daemon's snapshot, for the bridge's own diagnostics. */
  snapshot: () => Snapshot;
  log: LogFn;
  now?: () => number;
  /** How often the bridge's own figures are read (default 5 s). */
  figuresEveryMs?: number;
  backoff?: { initial: number; max: number };
}

export class MqttService implements DaemonService {
  readonly name = 'mqtt';
  readonly tap: RawTap | undefined;
  readonly prefix: string;
  private readonly link: MqttLink;
  private readonly retained: RetainedSet;
  private readonly house: HousePublisher;
  private readonly commands: CommandHandler;
  private figuresTimer: NodeJS.Timeout | null = null;
  private readonly discoveryFilter: string | null;
  /** The live settings: --tx-allow, --tx-rate and --tx-ids may change on SIGHUP. */
  private live: Config;

  constructor(private readonly o: MqttServiceOptions) {
    const c = o.config;
    this.live = c;
    const now = o.now ?? (() => performance.now());
    this.prefix = c.mqttPrefix || defaultPrefix(o.hostname);
    this.discoveryFilter = c.mqttDiscoveryPrefix ? `${c.mqttDiscoveryPrefix}/+/+/+/config` : null;
    this.link = new MqttLink({
      url: c.mqttUrl,
      ca: c.mqttCa,
      cert: c.mqttCert,
      key: c.mqttKey,
      clientId: `ampio-bridge-${o.hostname.split('.')[0].slice(0, 32)}-${randomBytes(3).toString('hex')}`,
      availabilityTopic: `${this.prefix}/${AVAILABILITY}`,
      log: o.log,
      backoff: o.backoff,
      onConnected: () => this.connected(),
      onWritable: () => this.retained.flush(),
      onMessage: (topic, payload, retained) => this.message(topic, payload, retained),
    });
    this.retained = new RetainedSet(this.link);
    this.house = new HousePublisher(this.retained, o.view, {
      prefix: this.prefix,
      discoveryPrefix: c.mqttDiscoveryPrefix,
      commands: false,
      hostname: o.hostname,
      version: o.version,
      buses: o.buses.map((b) => b.name),
    });
    this.commands = new CommandHandler({
      prefix: this.prefix,
      buses: o.buses,
      encoders: o.encoders,
      house: () => o.view?.house() ?? { path: null, devices: [], loadedAt: 0 },
      busOf: (module) => o.view?.modules().find((m) => m.address === module)?.bus ?? null,
      settings: () => this.live,
      log: o.log,
      now,
    });
    this.tap = c.mqttRaw ? new RawTap({ prefix: this.prefix, rate: c.mqttRawRate, sink: this.link, now }) : undefined;
  }

  async start(): Promise<void> {
    this.house.start();
    this.figures();
    this.figuresTimer = setInterval(() => this.figures(), this.o.figuresEveryMs ?? 5000);
    this.figuresTimer.unref();
    // Connecting never blocks the start-up: the bus serves whether or not a broker answers.
    this.link.start();
    if (!this.o.view)
      this.o.log('warn', 'mqtt_no_house', {
        message: "the Ampio decoder is off (--ampio=false): MQTT publishes only availability and the bridge's own figures; turn --ampio on for the house",
      });
    this.o.log('info', 'mqtt_start', { broker: redactMqttUrl(this.o.config.mqttUrl), prefix: this.prefix, raw: this.tap !== undefined });
  }

  async stop(): Promise<void> {
    if (this.figuresTimer) clearInterval(this.figuresTimer);
    this.figuresTimer = null;
    this.house.stop();
    await this.link.stop();
  }

  /** SIGHUP: the TX settings apply to the next command; listen-only may turn on or off. */
  reload(config: Config): void {
    this.live = config;
    if (this.link.state === 'connected') this.connected();
  }

  /** Every (re)connection: the present state, never a backlog; commands only where allowed. */
  private connected(): void {
    const commands = this.commands.connectedFrom(this.link.remoteAddress);
    // A reload that made the bridge listen-only: stop receiving commands at all.
    if (!commands) this.link.unsubscribe([commandFilter(this.prefix)]);
    this.house.setCommands(commands);
    const filters = [...(commands ? [commandFilter(this.prefix)] : []), ...(this.discoveryFilter ? [this.discoveryFilter] : [])];
    this.link.subscribe(filters);
    this.retained.markAllDirty();
  }

  private message(topic: string, payload: Buffer, retained: boolean): void {
    if (topic.startsWith(`${this.prefix}/set/`)) this.commands.handle(topic, payload, retained);
    else if (retained) this.house.sawRetainedDiscovery(topic, payload);
  }

  private figures(): void {
    try {
      this.house.bridgeFigures(this.o.snapshot());
    } catch {
      // The daemon is not serving yet (or any more): the next tick tries again.
    }
  }

  snapshot(): MqttSnapshot {
    const l = this.link;
    return {
      state: l.state,
      broker: redactMqttUrl(this.o.config.mqttUrl),
      prefix: this.prefix,
      since: l.since,
      connects: l.connects,
      disconnects: l.disconnects,
      lastError: l.lastError,
      listenOnly: this.commands.listenOnly,
      topics: this.retained.size,
      pending: this.retained.pending,
      published: this.retained.published + (this.tap?.published ?? 0),
      superseded: this.retained.coalesced,
      commands: { ...this.commands.counts, refused: { ...this.commands.counts.refused }, failed: { ...this.commands.counts.failed } },
      ...(this.tap ? { raw: { published: this.tap.published, dropped: { ...this.tap.dropped } } } : {}),
    };
  }

  contribute(snapshot: Snapshot): void {
    snapshot.mqtt = this.snapshot();
  }
}
