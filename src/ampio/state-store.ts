// The state store: module × kind × channel → value, with the time of the last change and
// change subscriptions. Fed by the ampio tap's drain (never the bus's hot path). Laid out
// for that drain: per module a small map of kinds, per kind an array by channel, entries
// updated in place, so storing a value builds no string and allocates nothing.
import type { AmpioState, DecodedValue, StateChange, StateData, StateKind, StateReader, Unsubscribe } from './types.js';

/** Value equality: scalars by ===, records field by field. */
export function sameValue(a: StateData | undefined, b: StateData): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** When a (module, type) broadcast was last heard; shared by the values that type carries. */
export interface SeenClock {
  t: number;
}

interface Entry {
  module: number;
  kind: StateKind;
  channel: number;
  value: StateData;
  unit: string | null;
  changedAt: number;
  clock: SeenClock;
}

/** One module's values: kind → entries by channel. */
export type ModuleSlot = Map<StateKind, Array<Entry | undefined>>;

const view = (e: Entry): AmpioState => ({
  module: e.module,
  kind: e.kind,
  channel: e.channel,
  value: e.value,
  unit: e.unit,
  changedAt: e.changedAt,
  seenAt: e.clock.t,
});

// A stable, readable kind order for listings: the module's health first, then I/O.
const KIND_ORDER: readonly StateKind[] = [
  'diagnostics',
  'temperature',
  'temperature_int',
  'bin',
  'bout',
  'binout',
  'aout',
  'aint',
  'rgb',
  'flag',
  's16b',
  's16b10000',
  'heating',
  'zone',
  'datetime',
  'armed',
  'alarm',
  'breached',
  'arming',
  'arming_10s',
  'response',
];
const rank = (k: StateKind): number => {
  const i = KIND_ORDER.indexOf(k);
  return i < 0 ? KIND_ORDER.length : i;
};

interface Listener {
  fn: (change: StateChange) => void;
  module: number | undefined;
}

export class StateStore implements StateReader {
  private readonly modules = new Map<number, ModuleSlot>();
  private listeners: Listener[] = [];
  /** Errors thrown by listeners (counted, never propagated into the decoder). */
  listenerErrors = 0;

  /** The values of `module` (created empty); the tap keeps it on the module's record. */
  slot(module: number): ModuleSlot {
    let s = this.modules.get(module);
    if (!s) {
      s = new Map();
      this.modules.set(module, s);
    }
    return s;
  }

  /** The entries of one kind in a slot, by channel (created empty). */
  channels(slot: ModuleSlot, kind: StateKind): Array<Entry | undefined> {
    let a = slot.get(kind);
    if (!a) {
      a = [];
      slot.set(kind, a);
    }
    return a;
  }

  /**
   * Stores one value seen at `time` (ms epoch); true when it changed (a first value counts).
   * `clock` is the (module, type) clock the tap advances on every broadcast of that type,
   * changed or not: a repeated frame costs one assignment and no decode; it becomes `seenAt`.
   */
  put(
    module: number,
    channels: Array<Entry | undefined>,
    kind: StateKind,
    channel: number,
    value: StateData,
    unit: string | null,
    time: number,
    clock: SeenClock,
  ): boolean {
    const current = channels[channel];
    if (current !== undefined) {
      current.clock = clock;
      if (sameValue(current.value, value)) return false;
      const previous = current.value;
      current.value = value;
      current.changedAt = time;
      if (this.listeners.length > 0) this.notify({ state: view(current), previous });
      return true;
    }
    const entry: Entry = { module, kind, channel, value, unit, changedAt: time, clock };
    channels[channel] = entry;
    if (this.listeners.length > 0) this.notify({ state: view(entry), previous: undefined });
    return true;
  }

  /** Applies decoded values (tests and callers holding a DecodeResult); returns how many changed. */
  apply(module: number, values: readonly DecodedValue[], time: number, clock: SeenClock = { t: time }): number {
    const slot = this.slot(module);
    clock.t = time;
    let changed = 0;
    for (const v of values) if (this.put(module, this.channels(slot, v.kind), v.kind, v.channel, v.value, v.unit, time, clock)) changed++;
    return changed;
  }

  get(module: number, kind: StateKind, channel: number): AmpioState | undefined {
    const e = this.modules.get(module)?.get(kind)?.[channel];
    return e ? view(e) : undefined;
  }

  ofModule(module: number): AmpioState[] {
    const slot = this.modules.get(module);
    if (!slot) return [];
    const out: AmpioState[] = [];
    for (const kind of [...slot.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
      for (const e of slot.get(kind) ?? []) if (e) out.push(view(e));
    }
    return out;
  }

  all(): AmpioState[] {
    const out: AmpioState[] = [];
    for (const address of [...this.modules.keys()].sort((a, b) => a - b)) out.push(...this.ofModule(address));
    return out;
  }

  subscribe(fn: (change: StateChange) => void, filter?: { module?: number }): Unsubscribe {
    const listener: Listener = { fn, module: filter?.module };
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private notify(change: StateChange): void {
    for (const l of this.listeners) {
      if (l.module !== undefined && l.module !== change.state.module) continue;
      try {
        l.fn(change);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}
