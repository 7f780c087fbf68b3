// Reads the house file: the YAML config of kstaniek/aioampio (the library behind the Home
// Assistant `ampio` integration), so an owner reuses the file they have. What we read of it
// (aioampio/models/config.py, DeviceCfg and the *Cfg entity models): `devices:`, each with
// `can_id`, `name`, `model` (a DeviceType code), `area`, optional `id`, `pcb`,
// `sw_version`, and entity lists whose entries have `id`, `name`, `states`, `area` and a few
// per-platform keys. Other top-level keys (outputs, codecs, floors, …) are theirs: ignored.
// Every error names the line and column, so the owner can fix the file.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { EntityPlatform, House, HouseDevice, HouseEntity, StateKind, StateRef } from './types.js';

/** aioampio/models/config.py: DeviceType (model code → name). */
export const MODEL_NAMES: ReadonlyMap<number, string> = new Map([
  [3, 'MROL4S'],
  [4, 'MREL8S'],
  [5, 'MDIM'],
  [10, 'MSERVS'],
  [12, 'MRGBW'],
  [17, 'MLED'],
  [22, 'MRT16S'],
  [25, 'MCOM'],
  [26, 'MINOC4P'],
  [44, 'MSENS'],
]);

/** aioampio/models/config.py: state_value_types (the kinds a `states:` entry may name). */
const STATE_KINDS: ReadonlySet<string> = new Set([
  'bin',
  'bout',
  'aint',
  'aout',
  'rgb',
  's16b',
  's16b10000',
  'temperature',
  'binout',
  'response',
  'arming',
  'arming_10s',
  'armed',
  'breached',
  'alarm',
  'flag',
  'datetime',
  'heating',
  'zone',
]);

const PLATFORMS: readonly EntityPlatform[] = [
  'lights',
  'switches',
  'binary_sensors',
  'sensors',
  'covers',
  'valves',
  'climates',
  'texts',
  'alarm_control_panels',
];
const DEVICE_KEYS = new Set(['can_id', 'name', 'model', 'id', 'pcb', 'sw_version', 'area', ...PLATFORMS]);
/** Entity keys across aioampio's *Cfg models (PlatformCfg plus device_class, platform, on, dimming, color). */
const ENTITY_KEYS = new Set(['id', 'name', 'states', 'area', 'device_class', 'platform', 'on', 'dimming', 'color']);

/** A house file that cannot be used; `line`/`column` are 1-based, 0 when unknown. */
export class HouseFileError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${path}${line > 0 ? `:${line}:${column}` : ''}: ${reason}`);
    this.name = 'HouseFileError';
  }
}

/** Parses house-file text; throws HouseFileError. `now` stamps `loadedAt`. */
export function parseHouseFile(text: string, path: string, now = Date.now()): House {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const fail = (node: Node | null | undefined, reason: string): never => {
    const at = node?.range ? lines.linePos(node.range[0]) : { line: 0, col: 0 };
    throw new HouseFileError(path, at.line, at.col, reason);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const at = lines.linePos(e.pos[0]);
    throw new HouseFileError(path, at.line, at.col, `not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'the file must be a mapping with a `devices:` list (the aioampio config format)');
  const devicesNode = root.get('devices', true) as Node | undefined;
  if (devicesNode === undefined) return fail(root, 'no `devices:` list: name each module under `devices:` with can_id, name and model');
  if (!isSeq(devicesNode)) return fail(devicesNode, '`devices:` must be a list');

  const devices: HouseDevice[] = [];
  const seen = new Map<number, string>();
  for (const item of devicesNode.items as Node[]) {
    if (!isMap(item)) fail(item, 'each device must be a mapping with can_id, name and model');
    const device = readDevice(item as YAMLMap, fail);
    const other = seen.get(device.address);
    if (other !== undefined) fail(item, `can_id 0x${device.address.toString(16)} is already used by "${other}"`);
    seen.set(device.address, device.name);
    devices.push(device);
  }
  return { path, devices, loadedAt: now };
}

type Fail = (node: Node | null | undefined, reason: string) => never;

function keyNodes(map: YAMLMap, allowed: ReadonlySet<string>, what: string, fail: Fail): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.has(key)) fail(pair.key as Node, `unknown key "${key}" in a ${what} (known: ${[...allowed].join(', ')})`);
  }
}

function text(map: YAMLMap, key: string, fail: Fail, required: boolean): string | null {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || (isScalar(node) && node.value === null)) {
    if (required) fail(map, `missing \`${key}:\``);
    return null;
  }
  if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) return fail(node, `\`${key}:\` must be text`);
  return String(node.value);
}

function readDevice(map: YAMLMap, fail: Fail): HouseDevice {
  keyNodes(map, DEVICE_KEYS, 'device', fail);
  const idNode = map.get('can_id', true) as Node | undefined;
  if (idNode === undefined) fail(map, 'missing `can_id:` (the module address, like 0x1a1e)');
  const raw = isScalar(idNode) ? idNode.value : undefined;
  const address = typeof raw === 'number' ? raw : typeof raw === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(address) || address < 0 || address > 0x1fffffff) fail(idNode, '`can_id:` must be a module address from 0 to 0x1FFFFFFF, like 0x1a1e');
  const name = text(map, 'name', fail, true) as string;
  const modelNode = map.get('model', true) as Node | undefined;
  let model: string | null = null;
  let modelCode: number | null = null;
  if (modelNode !== undefined) {
    const v = isScalar(modelNode) ? modelNode.value : undefined;
    if (typeof v === 'number' && Number.isInteger(v)) {
      modelCode = v;
      model = MODEL_NAMES.get(v) ?? `model ${v}`;
    } else if (typeof v === 'string' && v.trim() !== '') {
      const upper = v.trim().toUpperCase();
      const code = [...MODEL_NAMES].find(([, n]) => n === upper)?.[0];
      modelCode = code ?? null;
      model = code === undefined ? v.trim() : upper;
    } else fail(modelNode, '`model:` must be a model code (like 5 for MDIM) or a model name');
  }
  const area = text(map, 'area', fail, false);
  const entities: HouseEntity[] = [];
  for (const platform of PLATFORMS) {
    const list = map.get(platform, true) as Node | undefined;
    if (list === undefined || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) fail(list, `\`${platform}:\` must be a list`);
    const ids = new Set<string>();
    for (const item of (list as { items: Node[] }).items) {
      if (!isMap(item)) fail(item, `each entry of \`${platform}:\` must be a mapping with id, name and states`);
      const entity = readEntity(item as YAMLMap, platform, address, area, fail);
      if (ids.has(entity.id)) fail(item, `id "${entity.id}" appears twice in \`${platform}:\` of "${name}"`);
      ids.add(entity.id);
      entities.push(entity);
    }
  }
  return { address, name, model, modelCode, area, entities };
}

function readEntity(map: YAMLMap, platform: EntityPlatform, module: number, deviceArea: string | null, fail: Fail): HouseEntity {
  keyNodes(map, ENTITY_KEYS, `${platform} entry`, fail);
  const id = text(map, 'id', fail, true) as string;
  const name = text(map, 'name', fail, true) as string;
  const statesNode = map.get('states', true) as Node | undefined;
  if (statesNode === undefined) fail(map, 'missing `states:` (like [bout.3])');
  const items: Node[] = isSeq(statesNode) ? (statesNode.items as Node[]) : [statesNode as Node];
  const states = items.map((node) => {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string') return fail(node, 'a state must be text like bout.3');
    const m = /^\s*([a-z0-9_]+)\.(\d+)\s*$/.exec(v.toLowerCase());
    if (!m) return fail(node, `state "${v}" is not of the form kind.number (like bout.3)`);
    if (!STATE_KINDS.has(m[1])) return fail(node, `state kind "${m[1]}" is not one of ${[...STATE_KINDS].join(', ')}`);
    const channel = Number(m[2]);
    return { kind: m[1] as StateKind, channel, ref: `${m[1]}.${channel}` as StateRef };
  });
  const deviceClass = text(map, 'device_class', fail, false);
  const trailing = /(\d+)$/.exec(id);
  const index = trailing && Number(trailing[1]) >= 1 ? Number(trailing[1]) : null;
  return { id, name, platform, states, area: text(map, 'area', fail, false) ?? deviceArea, deviceClass, index, module };
}

/** An empty house: no file. */
export const emptyHouse = (now = Date.now()): House => ({ path: null, devices: [], loadedAt: now });
