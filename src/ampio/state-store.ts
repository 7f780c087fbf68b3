// The state store: module × kind × channel → value, with the time of the last change and
// change subscriptions. Fed by the ampio tap's drain (never the bus's hot path).
import type { AmpioState, DecodedValue, StateChange, StateData, StateKind, StateReader, Unsubscribe } from './types.js';

const KIND_ORDER = new Map<string, number>();

function kindRank(kind: string): number {
  let r = KIND_ORDER.get(kind);
  if (r === undefined) {
    r = KIND_ORDER.size;
    KIND_ORDER.set(kind, r);
  }
  return r;
}

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

const view = (e: Entry): AmpioState => ({ module: e.module, kind: e.kind, channel: e.channel, value: e.value, unit: e.unit, changedAt: e.changedAt, seenAt: e.clock.t });

interface Listener {
  fn: (change: StateChange) => void;
  module: number | undefined;
}

export class StateStore implements StateReader {
  private readonly modules = new Map<number, Map<string, Entry>>();
  private listeners: Listener[] = [];
  /** Errors thrown by listeners (counted, never propagated into the decoder). */
  listenerErrors = 0;

  /**
   * Applies decoded values seen at `time` (ms epoch); returns how many changed. `clock` is
   * the (module, type) clock the tap advances on every broadcast of that type, changed or
   * not, so a repeated frame costs one assignment and no decode; it becomes `seenAt`.
   */
  apply(module: number, values: readonly DecodedValue[], time: number, clock: SeenClock = { t: time }): number {
    let states = this.modules.get(module);
    if (!states) {
      states = new Map();
      this.modules.set(module, states);
    }
    clock.t = time;
    let changed = 0;
    for (const v of values) {
      const key = `${v.kind}.${v.channel}`;
      const current = states.get(key);
      if (current && sameValue(current.value, v.value)) {
        current.clock = clock;
        continue;
      }
      const entry: Entry = { module, kind: v.kind, channel: v.channel, value: v.value, unit: v.unit, changedAt: time, clock };
      states.set(key, entry);
      changed++;
      if (this.listeners.length > 0) this.notify({ state: view(entry), previous: current?.value });
    }
    return changed;
  }

  get(module: number, kind: StateKind, channel: number): AmpioState | undefined {
    const e = this.modules.get(module)?.get(`${kind}.${channel}`);
    return e ? view(e) : undefined;
  }

  ofModule(module: number): AmpioState[] {
    const states = this.modules.get(module);
    return states ? sortStates([...states.values()].map(view)) : [];
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

function sortStates(states: AmpioState[]): AmpioState[] {
  return states.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.kind.localeCompare(b.kind) || a.channel - b.channel);
}

// A stable, readable kind order for listings: the module's health first, then I/O.
for (const k of ['diagnostics', 'temperature', 'temperature_int', 'bin', 'bout', 'binout', 'aout', 'rgb', 'flag', 's16b', 's16b10000', 'heating', 'zone', 'datetime', 'armed', 'alarm', 'breached', 'arming', 'arming_10s', 'response']) kindRank(k);
