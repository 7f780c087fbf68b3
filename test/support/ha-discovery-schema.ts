// Checks for Home Assistant MQTT discovery configs, written from Home Assistant's
// documentation (home-assistant.io/integrations/mqtt/ "Discovery messages", and the
// per-platform pages light.mqtt, switch.mqtt, binary_sensor.mqtt, sensor.mqtt, cover.mqtt):
// the topic form, the keys each platform accepts with their types, the required ones, and
// the device/availability shapes. A config with a key the platform does not know, a missing
// required key or a wrong type is reported. Returns the problems (empty = valid).

type Check = 'string' | 'int' | 'number' | 'bool' | 'device' | 'availability' | 'origin' | 'enum';

const COMMON: Record<string, Check> = {
  name: 'string',
  unique_id: 'string',
  object_id: 'string',
  default_entity_id: 'string',
  device: 'device',
  origin: 'origin',
  availability: 'availability',
  availability_mode: 'enum',
  availability_topic: 'string',
  payload_available: 'string',
  payload_not_available: 'string',
  entity_category: 'enum',
  enabled_by_default: 'bool',
  icon: 'string',
  qos: 'int',
  json_attributes_topic: 'string',
  json_attributes_template: 'string',
  encoding: 'string',
  entity_picture: 'string',
};

/** Per platform: accepted keys (beyond COMMON) and the required ones. */
const PLATFORMS: Record<string, { keys: Record<string, Check>; required: string[] }> = {
  light: {
    keys: {
      command_topic: 'string',
      state_topic: 'string',
      state_value_template: 'string',
      payload_on: 'string',
      payload_off: 'string',
      brightness_command_topic: 'string',
      brightness_state_topic: 'string',
      brightness_scale: 'int',
      brightness_value_template: 'string',
      brightness_command_template: 'string',
      on_command_type: 'enum',
      optimistic: 'bool',
      retain: 'bool',
      schema: 'enum',
      rgbw_command_topic: 'string',
      rgbw_state_topic: 'string',
      rgbw_value_template: 'string',
      rgbw_command_template: 'string',
    },
    required: ['command_topic'],
  },
  switch: {
    keys: {
      command_topic: 'string',
      state_topic: 'string',
      value_template: 'string',
      payload_on: 'string',
      payload_off: 'string',
      state_on: 'string',
      state_off: 'string',
      optimistic: 'bool',
      retain: 'bool',
      device_class: 'enum',
      command_template: 'string',
    },
    required: [],
  },
  binary_sensor: {
    keys: {
      state_topic: 'string',
      value_template: 'string',
      payload_on: 'string',
      payload_off: 'string',
      device_class: 'enum',
      expire_after: 'int',
      force_update: 'bool',
      off_delay: 'int',
    },
    required: ['state_topic'],
  },
  sensor: {
    keys: {
      state_topic: 'string',
      value_template: 'string',
      unit_of_measurement: 'string',
      device_class: 'enum',
      state_class: 'enum',
      expire_after: 'int',
      force_update: 'bool',
      suggested_display_precision: 'int',
      last_reset_value_template: 'string',
    },
    required: ['state_topic'],
  },
  cover: {
    keys: {
      command_topic: 'string',
      state_topic: 'string',
      value_template: 'string',
      payload_open: 'string',
      payload_close: 'string',
      payload_stop: 'string',
      state_open: 'string',
      state_opening: 'string',
      state_closed: 'string',
      state_closing: 'string',
      state_stopped: 'string',
      position_topic: 'string',
      position_template: 'string',
      set_position_topic: 'string',
      set_position_template: 'string',
      position_open: 'int',
      position_closed: 'int',
      device_class: 'enum',
      optimistic: 'bool',
      retain: 'bool',
    },
    required: [],
  },
};

const ENUMS: Record<string, readonly string[]> = {
  availability_mode: ['all', 'any', 'latest'],
  entity_category: ['config', 'diagnostic'],
  on_command_type: ['last', 'first', 'brightness'],
  schema: ['default', 'json', 'template'],
  state_class: ['measurement', 'total', 'total_increasing', 'measurement_angle'],
  // device classes the bridge may publish (HA's lists are longer; these are the ones checked against them)
  'binary_sensor.device_class': [
    'battery',
    'cold',
    'connectivity',
    'door',
    'garage_door',
    'gas',
    'heat',
    'light',
    'lock',
    'moisture',
    'motion',
    'moving',
    'occupancy',
    'opening',
    'plug',
    'power',
    'presence',
    'problem',
    'running',
    'safety',
    'smoke',
    'sound',
    'tamper',
    'update',
    'vibration',
    'window',
  ],
  'sensor.device_class': ['temperature', 'voltage', 'humidity', 'illuminance', 'power', 'energy', 'current', 'pressure', 'battery', 'data_rate', 'duration'],
  'cover.device_class': ['awning', 'blind', 'curtain', 'damper', 'door', 'garage', 'gate', 'shade', 'shutter', 'window'],
  'switch.device_class': ['outlet', 'switch'],
};

const TOPIC_RE = /^(?<prefix>.+?)\/(?<component>[a-z_]+)\/(?:(?<node>[A-Za-z0-9_-]+)\/)?(?<object>[A-Za-z0-9_-]+)\/config$/;

function typeProblem(check: Check, key: string, value: unknown, component: string): string | null {
  switch (check) {
    case 'string':
      return typeof value === 'string' || (key === 'name' && value === null) ? null : `${key} must be a string`;
    case 'int':
      return Number.isInteger(value) ? null : `${key} must be an integer`;
    case 'number':
      return typeof value === 'number' ? null : `${key} must be a number`;
    case 'bool':
      return typeof value === 'boolean' ? null : `${key} must be true/false`;
    case 'enum': {
      const allowed = ENUMS[`${component}.${key}`] ?? ENUMS[key];
      return allowed && typeof value === 'string' && allowed.includes(value) ? null : `${key} "${String(value)}" is not one of ${allowed?.join(', ')}`;
    }
    case 'device': {
      const d = value as Record<string, unknown>;
      if (typeof d !== 'object' || d === null) return 'device must be an object';
      const ids = d.identifiers;
      const okIds = typeof ids === 'string' || (Array.isArray(ids) && ids.length > 0 && ids.every((i) => typeof i === 'string'));
      if (!okIds && !Array.isArray(d.connections)) return 'device needs identifiers (string or list of strings) or connections';
      const known = [
        'identifiers',
        'connections',
        'name',
        'manufacturer',
        'model',
        'model_id',
        'hw_version',
        'sw_version',
        'serial_number',
        'suggested_area',
        'via_device',
        'configuration_url',
      ];
      for (const k of Object.keys(d)) if (!known.includes(k)) return `device.${k} is not a device key`;
      for (const k of ['name', 'manufacturer', 'model', 'sw_version', 'suggested_area', 'via_device'])
        if (k in d && typeof d[k] !== 'string') return `device.${k} must be a string`;
      return null;
    }
    case 'origin': {
      const o = value as Record<string, unknown>;
      return typeof o === 'object' && o !== null && typeof o.name === 'string' ? null : 'origin needs a name';
    }
    case 'availability': {
      if (!Array.isArray(value) || value.length === 0) return 'availability must be a non-empty list';
      for (const a of value as Array<Record<string, unknown>>) {
        if (typeof a.topic !== 'string') return 'every availability entry needs a topic';
        for (const k of Object.keys(a))
          if (!['topic', 'payload_available', 'payload_not_available', 'value_template'].includes(k)) return `availability.${k} is not an availability key`;
      }
      return null;
    }
  }
}

export function validateDiscovery(topic: string, payload: string): string[] {
  const m = TOPIC_RE.exec(topic);
  if (!m?.groups) return [`${topic}: not <prefix>/<component>/[<node_id>/]<object_id>/config`];
  const component = m.groups.component;
  const platform = PLATFORMS[component];
  if (!platform) return [`${topic}: component ${component} is not checked here`];
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return [`${topic}: payload is not JSON`];
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const check = platform.keys[key] ?? COMMON[key];
    if (!check) {
      problems.push(`${topic}: ${key} is not a ${component} key`);
      continue;
    }
    const p = typeProblem(check, key, value, component);
    if (p) problems.push(`${topic}: ${p}`);
  }
  for (const key of platform.required) if (!(key in config)) problems.push(`${topic}: ${component} requires ${key}`);
  if ('availability' in config && 'availability_topic' in config) problems.push(`${topic}: availability and availability_topic are mutually exclusive`);
  if (typeof config.unique_id !== 'string') problems.push(`${topic}: no unique_id (entities without one cannot be edited or tied to a device)`);
  if ('device' in config && !('unique_id' in config)) problems.push(`${topic}: a device needs the entity to have a unique_id`);
  return problems;
}
