import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHouseFile } from '../../../src/ampio/house-file.js';
import type { ModuleEntry } from '../../../src/ampio/types.js';
import { type DiscoveryContext, discoveryConfigs, isOurDiscoveryTopic } from '../../../src/mqtt/discovery.js';
import { validateDiscovery } from '../../support/ha-discovery-schema.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/ampio/house.yaml');
const house = parseHouseFile(fs.readFileSync(FIXTURE, 'utf8'), 'house.yaml', 1000);
const ctx: DiscoveryContext = { prefix: 'ampio/pi', discoveryPrefix: 'homeassistant', commands: true, hostname: 'pi', version: '0.1.0', buses: ['can0'] };

function module(address: number, extra: Partial<ModuleEntry> = {}): ModuleEntry {
  return {
    address,
    key: address.toString(16).padStart(8, '0'),
    name: null,
    model: null,
    area: null,
    bus: 'can0',
    firstSeen: 0,
    lastSeen: 0,
    frames: 1,
    rate: 0,
    types: [],
    supplyVolts: 24,
    temperatureC: 30,
    online: true,
    known: false,
    ...extra,
  };
}

const parsed = (m: Map<string, string>, topic: string): Record<string, unknown> => JSON.parse(m.get(topic) ?? 'null') as Record<string, unknown>;

describe('Home Assistant discovery', () => {
  const configs = discoveryConfigs(ctx, house, [module(0x1a1e), module(0x0abc)]);

  it("every config passes the checks written from Home Assistant's discovery documentation", () => {
    expect(configs.size).toBeGreaterThan(10);
    const problems = [...configs].flatMap(([t, p]) => validateDiscovery(t, p));
    expect(problems).toEqual([]);
  });

  it('the checks do fail on broken configs (they can fail)', () => {
    expect(validateDiscovery('homeassistant/light/n/o/config', JSON.stringify({ unique_id: 'x', state_topic: 'a' }))).toEqual([
      'homeassistant/light/n/o/config: light requires command_topic',
    ]);
    expect(validateDiscovery('homeassistant/sensor/n/o/config', JSON.stringify({ unique_id: 'x', state_topic: 'a', colour: 1 }))).toEqual([
      'homeassistant/sensor/n/o/config: colour is not a sensor key',
    ]);
    expect(validateDiscovery('homeassistant/sensor/n/o/config', JSON.stringify({ unique_id: 'x', state_topic: 'a', device: { name: 'x' } }))[0]).toMatch(
      /identifiers/,
    );
    expect(validateDiscovery('homeassistant/sensor/n/o.x/config', '{}')[0]).toMatch(/not <prefix>/);
  });

  it('a device per module, reached through the bridge, named and placed by the house file', () => {
    const light = parsed(configs, 'homeassistant/light/ampio_00001a1e/light1/config');
    expect(light.device).toEqual({
      identifiers: ['ampio_00001a1e'],
      name: 'Relays ground floor',
      manufacturer: 'Ampio',
      model: expect.any(String),
      suggested_area: 'Technical room',
      via_device: 'ampio_bridge_ampio_pi',
    });
    expect(light.unique_id).toBe('ampio_00001a1e_light1');
    expect(light.name).toBe('Hall ceiling');
    expect(light.state_topic).toBe('ampio/pi/00001a1e/bout/1');
    expect(light.command_topic).toBe('ampio/pi/set/00001a1e/light1');
    // A module heard on the bus but not in the file still becomes a device (its diagnostics).
    expect(parsed(configs, 'homeassistant/sensor/ampio_00000abc/voltage/config').device).toMatchObject({
      name: 'Ampio 00000abc',
      via_device: 'ampio_bridge_ampio_pi',
    });
  });

  it('a dimmer is a light with brightness on its analog output', () => {
    const dim = parsed(configs, 'homeassistant/light/ampio_000019c7/light2/config');
    expect(dim).toMatchObject({
      state_topic: 'ampio/pi/000019c7/aout/2',
      brightness_state_topic: 'ampio/pi/000019c7/aout/2',
      brightness_command_topic: 'ampio/pi/set/000019c7/light2/brightness',
      brightness_scale: 255,
      on_command_type: 'brightness',
    });
  });

  it("diagnostic sensors: module voltage and temperature, the bridge's bus load, clients and kernel drops", () => {
    expect(parsed(configs, 'homeassistant/sensor/ampio_00001a1e/voltage/config')).toMatchObject({
      entity_category: 'diagnostic',
      device_class: 'voltage',
      unit_of_measurement: 'V',
      state_topic: 'ampio/pi/00001a1e/voltage',
    });
    expect(parsed(configs, 'homeassistant/sensor/ampio_00001a1e/temperature/config')).toMatchObject({
      device_class: 'temperature',
      state_topic: 'ampio/pi/00001a1e/temperature',
    });
    const node = 'ampio_bridge_ampio_pi';
    expect(parsed(configs, `homeassistant/sensor/${node}/can0_bus_load/config`)).toMatchObject({
      unit_of_measurement: '%',
      state_topic: 'ampio/pi/bridge/can0/bus_load',
    });
    expect(parsed(configs, `homeassistant/sensor/${node}/clients/config`)).toMatchObject({ state_topic: 'ampio/pi/bridge/clients' });
    expect(parsed(configs, `homeassistant/sensor/${node}/can0_kernel_drops/config`)).toMatchObject({ state_class: 'total_increasing' });
  });

  it('renaming in the house file keeps every unique_id and topic (no duplicates in Home Assistant)', () => {
    const renamed = parseHouseFile(
      fs.readFileSync(FIXTURE, 'utf8').replace('Hall ceiling', 'Hallway lamp').replace('Relays ground floor', 'Relays'),
      'house.yaml',
      1000,
    );
    const again = discoveryConfigs(ctx, renamed, [module(0x1a1e), module(0x0abc)]);
    expect([...again.keys()].sort()).toEqual([...configs.keys()].sort());
    const ids = (m: Map<string, string>) => [...m.values()].map((p) => (JSON.parse(p) as { unique_id: string }).unique_id).sort();
    expect(ids(again)).toEqual(ids(configs));
    expect(new Set(ids(configs)).size).toBe(configs.size);
    expect(parsed(again, 'homeassistant/light/ampio_00001a1e/light1/config').name).toBe('Hallway lamp');
  });

  it('listen-only: no command topic anywhere, lights shown as binary sensors, still valid', () => {
    const ro = discoveryConfigs({ ...ctx, commands: false }, house, [module(0x1a1e)]);
    for (const [t, p] of ro) {
      expect(p).not.toMatch(/command_topic|set_position_topic/);
      expect(validateDiscovery(t, p)).toEqual([]);
    }
    expect(ro.has('homeassistant/binary_sensor/ampio_00001a1e/light1/config')).toBe(true);
    expect(ro.has('homeassistant/light/ampio_00001a1e/light1/config')).toBe(false);
  });

  it("recognises its own discovery topics and no one else's", () => {
    expect(isOurDiscoveryTopic(ctx, 'homeassistant/light/ampio_00001a1e/light9/config')).toBe(true);
    expect(isOurDiscoveryTopic(ctx, 'homeassistant/sensor/ampio_bridge_ampio_pi/clients/config')).toBe(true);
    expect(isOurDiscoveryTopic(ctx, 'homeassistant/sensor/ampio_bridge_ampio_other/clients/config')).toBe(false);
    expect(isOurDiscoveryTopic(ctx, 'homeassistant/light/zigbee_1234/light/config')).toBe(false);
    expect(isOurDiscoveryTopic(ctx, 'homeassistant/light/ampio_00001a1e/config')).toBe(false);
  });
});
