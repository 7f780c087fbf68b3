// Home Assistant MQTT discovery: the retained config messages that make each Ampio module a
// device and each house-file entity an entity in Home Assistant. Pure: house + modules in,
// topic → JSON config out; the service publishes the difference.
//
// Facts from Home Assistant's MQTT documentation (home-assistant.io/integrations/mqtt/,
// …/light.mqtt/, …/switch.mqtt/, …/binary_sensor.mqtt/, …/sensor.mqtt/, …/cover.mqtt/):
//   - topic `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids [A-Za-z0-9_-];
//   - an empty retained config removes the entity;
//   - `device.identifiers` ties entities to a device, `via_device` names the device it is
//     reached through, `suggested_area` places it;
//   - `availability` is a list of {topic, payload_available, payload_not_available} and
//     `availability_mode: all` needs every one to say available;
//   - light (default schema) requires `command_topic`; switch, cover may go without (read-only);
//     binary_sensor and sensor require `state_topic`.
import type { EntityPlatform, House, HouseDevice, HouseEntity, ModuleEntry, StateKind } from '../ampio/types.js';
import { AVAILABILITY, bridgeTopic, commandTopic, moduleKey, moduleTopic, safeId, stateTopic } from './topics.js';

export interface DiscoveryContext {
  /** The bridge's topic prefix. */
  prefix: string;
  /** Home Assistant's discovery prefix. */
  discoveryPrefix: string;
  /** false = listen-only: no command topics at all (lights become binary sensors). */
  commands: boolean;
  /** Names the bridge device: its host name. */
  hostname: string;
  version: string;
  /** Bus names, for the per-bus bridge sensors. */
  buses: readonly string[];
}

type Config = Record<string, unknown>;
type Component = 'light' | 'switch' | 'binary_sensor' | 'sensor' | 'cover';

/** The node id every discovery topic of this bridge's modules starts with (also how stale ones are recognised). */
export function nodeIdOf(module: number): string {
  return `ampio_${moduleKey(module)}`;
}

export function bridgeNodeId(prefix: string): string {
  return `ampio_bridge_${safeId(prefix.replace(/\//g, '_'))}`;
}

/** Whether a discovery topic belongs to this bridge (module nodes and its own node). */
export function isOurDiscoveryTopic(ctx: Pick<DiscoveryContext, 'discoveryPrefix' | 'prefix'>, topic: string): boolean {
  const parts = topic.split('/');
  const base = ctx.discoveryPrefix.split('/').length;
  if (parts.length !== base + 4 || parts[parts.length - 1] !== 'config' || !topic.startsWith(`${ctx.discoveryPrefix}/`)) return false;
  const node = parts[base + 1];
  return /^ampio_[0-9a-f]{8}$/.test(node) || node === bridgeNodeId(ctx.prefix);
}

function topic(ctx: DiscoveryContext, component: Component, node: string, object: string): string {
  return `${ctx.discoveryPrefix}/${component}/${node}/${safeId(object)}/config`;
}

const ORIGIN = (ctx: DiscoveryContext): Config => ({ name: 'ampio-bridge', sw_version: ctx.version });

function bridgeDevice(ctx: DiscoveryContext): Config {
  return {
    identifiers: [bridgeNodeId(ctx.prefix)],
    name: `Ampio bridge ${ctx.hostname}`,
    manufacturer: 'ampio-bridge',
    model: 'CAN bridge',
    sw_version: ctx.version,
  };
}

function moduleDevice(ctx: DiscoveryContext, address: number, device: HouseDevice | undefined, module: ModuleEntry | undefined): Config {
  const name = device?.name ?? module?.name ?? `Ampio ${moduleKey(address)}`;
  const model = device?.model ?? module?.model ?? null;
  const area = device?.area ?? module?.area ?? null;
  return {
    identifiers: [nodeIdOf(address)],
    name,
    manufacturer: 'Ampio',
    ...(model ? { model } : {}),
    ...(area ? { suggested_area: area } : {}),
    via_device: bridgeNodeId(ctx.prefix),
  };
}

function availability(ctx: DiscoveryContext, module: number | null): Config {
  const list: Config[] = [{ topic: `${ctx.prefix}/${AVAILABILITY}`, payload_available: 'online', payload_not_available: 'offline' }];
  if (module !== null) list.push({ topic: moduleTopic(ctx.prefix, module, 'online'), payload_available: 'ON', payload_not_available: 'OFF' });
  return { availability: list, availability_mode: 'all' };
}

const TEMPERATURE_KINDS = new Set<StateKind>(['temperature', 'temperature_int']);

/** The config of one house-file entity, or null when it maps to nothing we can show. */
function entityConfig(
  ctx: DiscoveryContext,
  device: HouseDevice,
  entity: HouseEntity,
  module: ModuleEntry | undefined,
): { component: Component; config: Config } | null {
  const first = entity.states[0];
  if (!first) return null;
  const state = stateTopic(ctx.prefix, device.address, first.kind, first.channel);
  const base: Config = {
    name: entity.name,
    unique_id: `${nodeIdOf(device.address)}_${safeId(entity.id)}`,
    device: moduleDevice(ctx, device.address, device, module),
    origin: ORIGIN(ctx),
    ...availability(ctx, device.address),
  };
  const command = (part: 'state' | 'brightness' | 'position'): string => commandTopic(ctx.prefix, device.address, entity.id, part);
  const platform: EntityPlatform = entity.platform;
  const analog = first.kind === 'aout';
  const onOff = "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}";
  if (platform === 'lights') {
    if (!ctx.commands) {
      // A light needs a command topic; without commands it is shown as what it is: an input.
      return { component: 'binary_sensor', config: { ...base, state_topic: state, device_class: 'light', ...(analog ? { value_template: onOff } : {}) } };
    }
    if (analog) {
      return {
        component: 'light',
        config: {
          ...base,
          state_topic: state,
          state_value_template: onOff,
          command_topic: command('state'),
          brightness_state_topic: state,
          brightness_command_topic: command('brightness'),
          brightness_scale: 255,
          on_command_type: 'brightness',
          payload_on: 'ON',
          payload_off: 'OFF',
        },
      };
    }
    if (first.kind === 'rgb') {
      return {
        component: 'light',
        config: {
          ...base,
          state_topic: state,
          state_value_template: "{{ 'ON' if (value_json.red + value_json.green + value_json.blue + value_json.white) > 0 else 'OFF' }}",
          command_topic: command('state'),
        },
      };
    }
    return { component: 'light', config: { ...base, state_topic: state, command_topic: command('state'), payload_on: 'ON', payload_off: 'OFF' } };
  }
  if (platform === 'switches') {
    return {
      component: 'switch',
      config: {
        ...base,
        state_topic: state,
        ...(analog ? { value_template: onOff } : {}),
        ...(ctx.commands ? { command_topic: command('state'), payload_on: 'ON', payload_off: 'OFF' } : {}),
      },
    };
  }
  if (platform === 'binary_sensors') {
    return {
      component: 'binary_sensor',
      config: {
        ...base,
        state_topic: state,
        ...(analog ? { value_template: onOff } : {}),
        ...(entity.deviceClass ? { device_class: entity.deviceClass } : {}),
      },
    };
  }
  if (platform === 'sensors') {
    const temperature = TEMPERATURE_KINDS.has(first.kind) || entity.deviceClass === 'temperature';
    return {
      component: 'sensor',
      config: {
        ...base,
        state_topic: state,
        state_class: 'measurement',
        ...(temperature ? { device_class: 'temperature', unit_of_measurement: '°C' } : entity.deviceClass ? { device_class: entity.deviceClass } : {}),
      },
    };
  }
  if (platform === 'covers') {
    return {
      component: 'cover',
      config: {
        ...base,
        ...(entity.deviceClass ? { device_class: entity.deviceClass } : {}),
        ...(ctx.commands
          ? {
              command_topic: command('state'),
              payload_open: 'OPEN',
              payload_close: 'CLOSE',
              payload_stop: 'STOP',
              set_position_topic: command('position'),
              position_open: 100,
              position_closed: 0,
            }
          : {}),
      },
    };
  }
  return null;
}

/** Diagnostic sensors of one module: supply voltage, temperature, online. */
function moduleDiagnostics(ctx: DiscoveryContext, address: number, device: HouseDevice | undefined, module: ModuleEntry | undefined): Array<[string, Config]> {
  const node = nodeIdOf(address);
  const dev = moduleDevice(ctx, address, device, module);
  const common = (what: string): Config => ({ unique_id: `${node}_${what}`, device: dev, origin: ORIGIN(ctx), entity_category: 'diagnostic' });
  return [
    [
      topic(ctx, 'sensor', node, 'voltage'),
      {
        ...common('voltage'),
        name: 'Supply voltage',
        state_topic: moduleTopic(ctx.prefix, address, 'voltage'),
        device_class: 'voltage',
        unit_of_measurement: 'V',
        state_class: 'measurement',
        ...availability(ctx, address),
      },
    ],
    [
      topic(ctx, 'sensor', node, 'temperature'),
      {
        ...common('temperature'),
        name: 'Module temperature',
        state_topic: moduleTopic(ctx.prefix, address, 'temperature'),
        device_class: 'temperature',
        unit_of_measurement: '°C',
        state_class: 'measurement',
        ...availability(ctx, address),
      },
    ],
    [
      topic(ctx, 'binary_sensor', node, 'online'),
      {
        ...common('online'),
        name: 'Online',
        state_topic: moduleTopic(ctx.prefix, address, 'online'),
        device_class: 'connectivity',
        ...availability(ctx, null),
      },
    ],
  ];
}

/** The bridge itself: bus load and kernel drops per bus, clients. */
function bridgeDiagnostics(ctx: DiscoveryContext): Array<[string, Config]> {
  const node = bridgeNodeId(ctx.prefix);
  const dev = bridgeDevice(ctx);
  const common = (what: string): Config => ({
    unique_id: `${node}_${what}`,
    device: dev,
    origin: ORIGIN(ctx),
    entity_category: 'diagnostic',
    ...availability(ctx, null),
  });
  const out: Array<[string, Config]> = [
    [
      topic(ctx, 'sensor', node, 'clients'),
      { ...common('clients'), name: 'Clients', state_topic: bridgeTopic(ctx.prefix, 'clients'), state_class: 'measurement' },
    ],
  ];
  for (const bus of ctx.buses) {
    const id = safeId(bus);
    out.push([
      topic(ctx, 'sensor', node, `${id}_bus_load`),
      {
        ...common(`${id}_bus_load`),
        name: `${bus} bus load`,
        state_topic: bridgeTopic(ctx.prefix, 'bus_load', bus),
        unit_of_measurement: '%',
        state_class: 'measurement',
      },
    ]);
    out.push([
      topic(ctx, 'sensor', node, `${id}_kernel_drops`),
      {
        ...common(`${id}_kernel_drops`),
        name: `${bus} kernel drops`,
        state_topic: bridgeTopic(ctx.prefix, 'kernel_drops', bus),
        state_class: 'total_increasing',
      },
    ]);
  }
  return out;
}

/**
 * Every discovery config of the bridge: its own device, one device per module (from the
 * house file, and modules heard on the bus that the file does not name), the file's entities.
 */
export function discoveryConfigs(ctx: DiscoveryContext, house: House, modules: readonly ModuleEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  const put = (t: string, c: Config): void => void out.set(t, JSON.stringify(c));
  for (const [t, c] of bridgeDiagnostics(ctx)) put(t, c);
  const byAddress = new Map(modules.map((m) => [m.address, m]));
  const devices = new Map(house.devices.map((d) => [d.address, d]));
  const addresses = new Set<number>([...devices.keys(), ...byAddress.keys()]);
  for (const address of addresses) {
    const device = devices.get(address);
    const module = byAddress.get(address);
    for (const [t, c] of moduleDiagnostics(ctx, address, device, module)) put(t, c);
    for (const entity of device?.entities ?? []) {
      const e = entityConfig(ctx, device!, entity, module);
      if (e) put(topic(ctx, e.component, nodeIdOf(address), entity.id), e.config);
    }
  }
  return out;
}
