// Values with their names, for `ampio-bridge state`, the control request `ampio_state` and
// anyone who shows the house: which house-file entities reference each value, and the
// filter people type (an address in any common form, or a module or entity name).
import { moduleKey } from './inventory.js';
import type { StateStore } from './state-store.js';
import type { House, HouseDevice, StateRef, StateView } from './types.js';

/** The module addresses `filter` names: a name (module or entity, case-insensitive) or an address (0x1a1e, 00001a1e, 1a1e, 6686). */
export function resolveModules(filter: string, house: House, heard: Iterable<number>): Set<number> {
  const f = filter.trim().toLowerCase();
  const out = new Set<number>();
  for (const d of house.devices) {
    if (d.name.toLowerCase() === f) out.add(d.address);
    for (const e of d.entities) if (e.name.toLowerCase() === f || `${d.name}/${e.name}`.toLowerCase() === f) out.add(d.address);
  }
  if (out.size > 0) return out;
  const known = new Set<number>([...heard, ...house.devices.map((d) => d.address)]);
  const candidates: number[] = [];
  if (/^0x[0-9a-f]+$/.test(f)) candidates.push(Number.parseInt(f.slice(2), 16));
  else {
    if (/^[0-9a-f]+$/.test(f)) candidates.push(Number.parseInt(f, 16));
    if (/^\d+$/.test(f)) candidates.push(Number(f));
  }
  // A bare number could be hex or decimal: the one the bus or the file knows wins; hex first.
  const hit = candidates.find((a) => known.has(a)) ?? candidates[0];
  if (hit !== undefined) out.add(hit);
  return out;
}

/** Entity names per `module/kind.channel`. */
function namesIndex(house: House): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const d of house.devices) {
    for (const e of d.entities) {
      for (const s of e.states) {
        const key = `${d.address}/${s.ref}`;
        const list = index.get(key) ?? [];
        list.push(e.name);
        index.set(key, list);
      }
    }
  }
  return index;
}

export function stateViews(store: StateStore, house: House, filter?: string): StateView[] {
  const devices = new Map<number, HouseDevice>(house.devices.map((d) => [d.address, d]));
  const names = namesIndex(house);
  let states = store.all();
  if (filter !== undefined && filter.trim() !== '') {
    const modules = resolveModules(filter, house, new Set(states.map((s) => s.module)));
    states = states.filter((s) => modules.has(s.module));
  }
  return states.map((s) => {
    const ref = `${s.kind}.${s.channel}` as StateRef;
    return {
      module: s.module,
      moduleKey: moduleKey(s.module),
      moduleName: devices.get(s.module)?.name ?? null,
      kind: s.kind,
      channel: s.channel,
      ref,
      names: names.get(`${s.module}/${ref}`) ?? [],
      value: s.value,
      unit: s.unit,
      changedAt: s.changedAt,
      seenAt: s.seenAt,
    };
  });
}
