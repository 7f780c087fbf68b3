// The house-file reader on a fixture shaped like aioampio's example config, and on broken
// files: every error names the line and column.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HouseFileError, parseHouseFile } from '../../../src/ampio/house-file.js';

const FIXTURE = new URL('../../fixtures/ampio/house.yaml', import.meta.url);

function error(text: string): HouseFileError {
  try {
    parseHouseFile(text, 'house.yaml');
  } catch (err) {
    if (err instanceof HouseFileError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('house file', () => {
  it('reads the aioampio-style fixture: devices, models, areas, entities, states', () => {
    const house = parseHouseFile(fs.readFileSync(FIXTURE, 'utf8'), 'house.yaml', 1000);
    expect(house.loadedAt).toBe(1000);
    expect(house.devices.map((d) => [d.address, d.name, d.model, d.modelCode, d.area])).toEqual([
      [0x1a1e, 'Relays ground floor', 'MREL8S', 4, 'Technical room'],
      [0x19c7, 'Dimmer living room', 'MDIM', 5, 'Technical room'],
      [6278, 'Sensors living room', 'MSENS', 44, 'Living room'],
      [0x1879, 'Colour strip', 'MRGBW', 12, null],
      [0x1e5d, 'Blinds', 'MROL4S', 3, 'Bedroom'],
    ]);
    const relays = house.devices[0];
    expect(relays.entities.map((e) => [e.platform, e.id, e.name, e.states.map((s) => s.ref), e.area, e.index, e.deviceClass])).toEqual([
      ['lights', 'light1', 'Hall ceiling', ['bout.1'], 'Hall', 1, null],
      ['switches', 'switch3', 'Garden pump', ['bout.3'], 'Garden', 3, null],
      ['binary_sensors', 'input1', 'Front door', ['bin.1'], 'Hall', 1, 'door'],
      ['binary_sensors', 'input2', 'Hall motion', ['bin.2'], 'Hall', 2, null],
    ]);
    // An entity without its own area takes its device's.
    expect(house.devices[4].entities[0]).toMatchObject({
      platform: 'covers',
      area: 'Bedroom',
      module: 0x1e5d,
      states: [{ kind: 'aout', channel: 1, ref: 'aout.1' }],
    });
    expect(house.devices[3].entities[0].states.map((s) => s.ref)).toEqual(['rgb.1', 'binout.25', 'binout.26', 'binout.27', 'binout.28']);
  });

  it('accepts can_id as a quoted hex string and model as a name', () => {
    const house = parseHouseFile('devices:\n  - can_id: "0x00001A1E"\n    name: R\n    model: mdim\n', 'h.yaml');
    expect(house.devices[0]).toMatchObject({ address: 0x1a1e, model: 'MDIM', modelCode: 5, entities: [] });
  });

  it.each([
    ['not YAML (a tab)', 'devices:\n  - can_id: 0x1a1e\n\tname: R\n', 3, /not valid YAML: Tabs/],
    ['no devices', 'floors: []\n', 1, /no `devices:` list/],
    ['devices not a list', 'devices:\n  can_id: 1\n', 2, /must be a list/],
    ['missing can_id', 'devices:\n  - name: R\n    model: 4\n', 2, /missing `can_id:`/],
    ['can_id too big', 'devices:\n  - can_id: 0x20000000\n    name: R\n', 2, /0x1FFFFFFF/],
    ['can_id text', 'devices:\n  - can_id: kitchen\n    name: R\n', 2, /module address/],
    ['missing name', 'devices:\n  - can_id: 1\n    model: 4\n', 2, /missing `name:`/],
    ['unknown device key', 'devices:\n  - can_id: 1\n    name: R\n    colour: red\n', 4, /unknown key "colour"/],
    [
      'bad state kind',
      'devices:\n  - can_id: 1\n    name: R\n    lights:\n      - id: l1\n        name: L\n        states: [lamp.1]\n',
      7,
      /state kind "lamp"/,
    ],
    ['bad state form', 'devices:\n  - can_id: 1\n    name: R\n    lights:\n      - id: l1\n        name: L\n        states: [bout-1]\n', 7, /kind\.number/],
    ['missing states', 'devices:\n  - can_id: 1\n    name: R\n    switches:\n      - id: s1\n        name: S\n', 5, /missing `states:`/],
    ['duplicate can_id', 'devices:\n  - can_id: 1\n    name: A\n  - can_id: 0x1\n    name: B\n', 4, /already used by "A"/],
    ['duplicate key', 'devices:\n  - can_id: 1\n    can_id: 2\n    name: A\n', 3, /not valid YAML/],
    ['entities not a list', 'devices:\n  - can_id: 1\n    name: R\n    lights: yes\n', 4, /`lights:` must be a list/],
  ])('%s: a clear error with its line and column', (_what, text, line, reason) => {
    const e = error(text);
    expect(e.line).toBe(line);
    expect(e.column).toBeGreaterThan(0);
    expect(e.reason).toMatch(reason);
    expect(e.message).toBe(`house.yaml:${e.line}:${e.column}: ${e.reason}`);
  });

  it('an empty file is an error, not an empty house', () => {
    expect(error('').reason).toMatch(/mapping with a `devices:` list/);
  });
});
