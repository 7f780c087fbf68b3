// Topic names and payloads of the bridge's MQTT tree. Pure: one place decides every name,
// so the publisher, the discovery configs, the command router and the README agree.
//
//   <prefix>/availability                      online | offline (retained; the last will)
//   <prefix>/<module>/<kind>/<channel>         one decoded value (retained): 21.5, ON, {"red":…}
//   <prefix>/<module>/voltage|temperature      the module's supply (V) and temperature (°C)
//   <prefix>/<module>/online                   ON | OFF (heard within the offline threshold)
//   <prefix>/set/<module>/<entity>             command: ON | OFF (switches, lights), OPEN | CLOSE | STOP (covers)
//   <prefix>/set/<module>/<entity>/brightness  command: 0–255 (lights on an analog output)
//   <prefix>/set/<module>/<entity>/position    command: 0–100 (covers)
//   <prefix>/bridge/clients, <prefix>/bridge/<bus>/bus_load|kernel_drops   the bridge's own figures
// <module> is the module's 8-digit lower-case hex address (aioampio's `%08x`), so a topic
// never changes when the house file renames something. Commands live in their own subtree
// (`set/`), so the one subscription that receives them never echoes the state topics back.
import type { StateData, StateKind } from '../ampio/types.js';

export const AVAILABILITY = 'availability';

export function moduleKey(address: number): string {
  return (address >>> 0).toString(16).padStart(8, '0');
}

export function stateTopic(prefix: string, module: number, kind: StateKind, channel: number): string {
  return `${prefix}/${moduleKey(module)}/${kind}/${channel}`;
}

export function moduleTopic(prefix: string, module: number, what: 'voltage' | 'temperature' | 'online'): string {
  return `${prefix}/${moduleKey(module)}/${what}`;
}

/** Entity ids become topic levels and discovery object ids: only [A-Za-z0-9_-] survive. */
export function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

export type CommandPart = 'state' | 'brightness' | 'position';

export function commandTopic(prefix: string, module: number, entityId: string, part: CommandPart): string {
  const base = `${prefix}/set/${moduleKey(module)}/${safeId(entityId)}`;
  return part === 'state' ? base : `${base}/${part}`;
}

/** The filter that receives every command topic above (one subscription). */
export function commandFilter(prefix: string): string {
  return `${prefix}/set/#`;
}

/** Parses a command topic back into its parts; null = not a command topic of ours. */
export function parseCommandTopic(prefix: string, topic: string): { module: number; entityId: string; part: CommandPart } | null {
  const head = `${prefix}/set/`;
  if (!topic.startsWith(head)) return null;
  const rest = topic.slice(head.length).split('/');
  if (rest.length < 2 || rest.length > 3 || !/^[0-9a-f]{8}$/.test(rest[0]) || rest[1] === '') return null;
  const part: CommandPart | null = rest.length === 2 ? 'state' : rest[2] === 'brightness' ? 'brightness' : rest[2] === 'position' ? 'position' : null;
  if (part === null) return null;
  return { module: Number.parseInt(rest[0], 16), entityId: rest[1], part };
}

export function bridgeTopic(prefix: string, what: string, bus?: string): string {
  return bus === undefined ? `${prefix}/bridge/${what}` : `${prefix}/bridge/${safeId(bus)}/${what}`;
}

/** The plain payload of a value: a number, ON/OFF, or small JSON for values with parts. */
export function statePayload(value: StateData): string {
  if (typeof value === 'boolean') return value ? 'ON' : 'OFF';
  if (typeof value === 'number') return Number.isFinite(value) ? String(Math.round(value * 1000) / 1000) : '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The default prefix names the site: `ampio/<hostname>` (the host name made topic-safe). */
export function defaultPrefix(hostname: string): string {
  const host = hostname.split('.')[0].replace(/[^A-Za-z0-9_.-]/g, '-') || 'bridge';
  return `ampio/${host}`;
}
