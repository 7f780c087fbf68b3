// What the bridge keeps retained on the broker about the house: one topic per decoded value,
// each module's supply/temperature/online, the discovery configs, and the bridge's own
// figures. It reads the ampio view (never devices or sessions) and writes into a RetainedSet,
// which decides what actually goes out and when; nothing here touches the socket.
import type { AmpioView, House, ModuleEntry, StateChange, StateKind } from '../ampio/types.js';
import type { Snapshot } from '../control/protocol.js';
import { type DiscoveryContext, discoveryConfigs, isOurDiscoveryTopic } from './discovery.js';
import type { RetainedSet } from './retained-set.js';
import { bridgeTopic, moduleTopic, statePayload, stateTopic } from './topics.js';

const EMPTY_HOUSE: House = { path: null, devices: [], loadedAt: 0 };

export class HousePublisher {
  private discovery = new Map<string, string>();
  /** Module addresses the discovery configs cover. */
  private devices = new Set<number>();
  private unsubscribe: Array<() => void> = [];
  private ctx: DiscoveryContext;

  constructor(
    private readonly retained: RetainedSet,
    private readonly view: AmpioView | null,
    ctx: DiscoveryContext,
  ) {
    this.ctx = ctx;
  }

  /** Seeds every current value and subscribes to changes. */
  start(): void {
    const view = this.view;
    if (!view) {
      this.refreshDiscovery();
      return;
    }
    for (const s of view.state.all()) this.onState({ state: s, previous: undefined });
    for (const m of view.modules()) this.onModule(m);
    this.unsubscribe.push(
      view.state.subscribe((c) => this.onState(c)),
      view.onModuleChange((m) => {
        this.onModule(m);
        // A module heard for the first time becomes a device (its diagnostics at least).
        if (!this.devices.has(m.address)) this.refreshDiscovery();
      }),
      view.onHouseChange(() => this.refreshDiscovery()),
    );
    this.refreshDiscovery();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** Listen-only or not decides whether the discovery offers command topics. */
  setCommands(commands: boolean): void {
    if (this.ctx.commands === commands) return;
    this.ctx = { ...this.ctx, commands };
    this.refreshDiscovery();
  }

  get commands(): boolean {
    return this.ctx.commands;
  }

  /** Topic names by module, kind and channel: built once, not at every change. */
  private readonly topicCache = new Map<number, Map<string, string[]>>();

  private topicOf(module: number, kind: StateKind, channel: number): string {
    let byKind = this.topicCache.get(module);
    if (!byKind) this.topicCache.set(module, (byKind = new Map()));
    let byChannel = byKind.get(kind);
    if (!byChannel) byKind.set(kind, (byChannel = []));
    return (byChannel[channel] ??= stateTopic(this.ctx.prefix, module, kind, channel));
  }

  private onState(c: StateChange): void {
    const s = c.state;
    const prefix = this.ctx.prefix;
    this.retained.set(this.topicOf(s.module, s.kind, s.channel), statePayload(s.value));
    if (s.kind === 'diagnostics' && typeof s.value === 'object') {
      const v = s.value as Record<string, unknown>;
      if (typeof v.voltage === 'number') this.retained.set(moduleTopic(prefix, s.module, 'voltage'), statePayload(v.voltage));
      if (typeof v.temperature === 'number') this.retained.set(moduleTopic(prefix, s.module, 'temperature'), statePayload(v.temperature));
    }
  }

  private onModule(m: ModuleEntry): void {
    const prefix = this.ctx.prefix;
    this.retained.set(moduleTopic(prefix, m.address, 'online'), m.online ? 'ON' : 'OFF');
    if (m.supplyVolts !== null) this.retained.set(moduleTopic(prefix, m.address, 'voltage'), statePayload(m.supplyVolts));
    if (m.temperatureC !== null) this.retained.set(moduleTopic(prefix, m.address, 'temperature'), statePayload(m.temperatureC));
  }

  /** Recomputes the discovery configs; changed ones go out, vanished ones are emptied. */
  refreshDiscovery(): void {
    if (this.ctx.discoveryPrefix === '') return;
    const house = this.view?.house() ?? EMPTY_HOUSE;
    const modules = this.view?.modules() ?? [];
    this.devices = new Set([...house.devices.map((d) => d.address), ...modules.map((m) => m.address)]);
    const next = discoveryConfigs(this.ctx, house, modules);
    for (const [topic, payload] of next) this.retained.set(topic, payload);
    for (const topic of this.discovery.keys()) if (!next.has(topic)) this.retained.delete(topic);
    this.discovery = next;
  }

  /**
   * A retained discovery config the broker holds under our node ids that we no longer
   * publish (an entity that left the house file while the bridge was down): emptied.
   */
  sawRetainedDiscovery(topic: string, payload: Buffer): void {
    if (payload.length === 0 || this.discovery.has(topic) || !isOurDiscoveryTopic(this.ctx, topic)) return;
    // Known to the set now, so delete() sends the empty config.
    this.retained.set(topic, payload.toString());
    this.retained.delete(topic);
  }

  /** The bridge's own diagnostics, from a daemon snapshot (only changes go out). */
  bridgeFigures(s: Snapshot): void {
    const prefix = this.ctx.prefix;
    this.retained.set(bridgeTopic(prefix, 'clients'), String(s.totals.active));
    for (const b of s.buses) {
      this.retained.set(bridgeTopic(prefix, 'bus_load', b.name), String(Math.round(b.busLoad * 10) / 10));
      this.retained.set(bridgeTopic(prefix, 'kernel_drops', b.name), String(b.rxKernelDrops ?? 0));
    }
  }
}
