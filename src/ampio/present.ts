// How the house is written for people: the `modules` and `state` tables, values with their
// units, ages, and a frame's decoded meaning for `capture query --decode`. Pure: no I/O, no
// colour (the callers decide).
import type { CanFrame } from '../core/frame.js';
import { decodeFrame } from './decoder.js';
import type { AmpioSnapshot, House, ModuleEntry, StateData, StateView } from './types.js';

export const addressText = (address: number): string => `0x${address.toString(16).padStart(8, '0')}`;

export function ageText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** `true` → on, records as `k=v …`, numbers as they are, with the unit. */
export function valueText(value: StateData, unit: string | null): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return unit ? `${value} ${unit}` : String(value);
  if (typeof value === 'string') return value;
  if ('voltage' in value && 'temperature' in value) return `${value.voltage} V, ${value.temperature} °C`;
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`)
    .join(' ');
}

/** Plain aligned table; the last column is not padded. */
export function textTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function supplyIsLow(m: ModuleEntry, lowVolts: number): boolean {
  return m.supplyVolts !== null && m.supplyVolts < lowVolts;
}

/** The `modules` table: address, name, model, area, voltage, temperature, last seen, online. */
export function formatModules(a: AmpioSnapshot, now: number): string {
  if (a.modules.length === 0) return 'no Ampio modules heard yet (and no house file names any)\n';
  const rows = a.modules.map((m) => [
    addressText(m.address),
    m.name ?? '-',
    m.model ?? '-',
    m.area ?? '-',
    m.supplyVolts === null ? '-' : `${m.supplyVolts.toFixed(1)} V${supplyIsLow(m, a.lowSupplyVolts) ? ' LOW' : ''}`,
    m.temperatureC === null ? '-' : `${m.temperatureC} °C`,
    m.frames === 0 ? 'never' : `${ageText(now - m.lastSeen)} ago`,
    m.frames === 0 ? 'never heard' : m.online ? 'online' : 'OFFLINE',
  ]);
  const online = a.modules.filter((m) => m.online).length;
  const lines = [
    textTable(['ADDRESS', 'NAME', 'MODEL', 'AREA', 'SUPPLY', 'TEMP', 'LAST SEEN', 'STATE'], rows),
    '',
    `${online} of ${a.modules.length} online · offline after ${ageText(a.offlineAfterMs)} of silence · ${a.decode.frames} state frames, ${a.decode.unknown} of unknown types${a.house.path ? ` · names from ${a.house.path}` : ''}`,
  ];
  if (a.house.error) lines.push(`house file: ${a.house.error}`);
  return `${lines.join('\n')}\n`;
}

/** The `state` table: module, value reference, names, value with unit, age of the last change. */
export function formatStates(states: readonly StateView[], now: number): string {
  if (states.length === 0) return 'no decoded values (yet)\n';
  const rows = states.map((s) => [
    s.moduleName ? `${s.moduleName} (${addressText(s.module)})` : addressText(s.module),
    s.ref,
    s.names.join(', ') || '-',
    valueText(s.value, s.unit),
    `${ageText(now - s.changedAt)}`,
  ]);
  return `${textTable(['MODULE', 'STATE', 'NAME', 'VALUE', 'CHANGED'], rows)}\n`;
}

/** Names from a house file for decoded frames; absent = addresses only. */
export interface FrameNames {
  module(address: number): string | null;
  /** Entity names that reference `ref` (`bout.3`) of `address`. */
  entity(address: number, ref: string): string | null;
}

/** Names of a house: module names by address, entity names by `address/ref`. */
export function houseNames(house: House): FrameNames {
  const modules = new Map(house.devices.map((d) => [d.address, d.name]));
  const entities = new Map<string, string[]>();
  for (const d of house.devices) {
    for (const e of d.entities) {
      for (const st of e.states) {
        const key = `${d.address}/${st.ref}`;
        entities.set(key, [...(entities.get(key) ?? []), e.name]);
      }
    }
  }
  return { module: (a) => modules.get(a) ?? null, entity: (a, ref) => entities.get(`${a}/${ref}`)?.join(', ') ?? null };
}

/** A frame's decoded meaning in one line, or '' when it is not an Ampio state broadcast. */
export function describeFrame(frame: CanFrame, names?: FrameNames): string {
  const r = decodeFrame(frame);
  if (!r) return '';
  const moduleName = names?.module(r.module);
  const who = moduleName ? `${moduleName} (${addressText(r.module)})` : addressText(r.module);
  const type = `${r.type === 0xef ? '10' : 'FE'} ${r.type.toString(16).padStart(2, '0').toUpperCase()}`;
  if (r.status === 'unknown') return `${who} ${type}: unknown type`;
  if (r.status === 'truncated') return `${who} ${type}: truncated`;
  const named = (ref: string) => {
    const n = names?.entity(r.module, ref);
    return n ? `${ref} "${n}"` : ref;
  };
  // A bit block is up to 48 values: show the ones that are on.
  if (r.values.length > 8 && r.values.every((v) => typeof v.value === 'boolean')) {
    const on = r.values.filter((v) => v.value === true).map((v) => named(`${v.kind}.${v.channel}`));
    return `${who}: ${r.values[0].kind}.${r.values[0].channel}–${r.values.at(-1)?.channel} on: ${on.length ? on.join(', ') : 'none'}`;
  }
  return `${who}: ${r.values.map((v) => `${named(`${v.kind}.${v.channel}`)}=${valueText(v.value, v.unit)}`).join(' ')}`;
}

/** One line about the house for `status`: modules heard, online, low supplies, frames; warn = something needs a look. */
export function describeAmpio(a: AmpioSnapshot): { text: string; warn: boolean } {
  const heard = a.modules.filter((m) => m.frames > 0);
  const online = heard.filter((m) => m.online).length;
  const low = heard.filter((m) => supplyIsLow(m, a.lowSupplyVolts)).length;
  const parts = [`ampio: ${heard.length} modules heard, ${online} online`];
  if (low > 0) parts.push(`${low} with a low supply`);
  parts.push(`${a.decode.frames} state frames (${a.decode.unknown} of unknown types)`);
  if (a.house.error) parts.push(`house file: ${a.house.error}`);
  else if (a.house.path) parts.push(`names from ${a.house.path}`);
  return { text: `${parts.join(' · ')} — see \`ampio-bridge modules\``, warn: online < heard.length || low > 0 || a.house.error !== null };
}
