// The tap's edges (which frames it takes, its bounded ring, both directions), the
// one-line meaning `capture query --decode` prints, the `modules`/`state` tables, and the
// `doctor` checks of sagging supplies and offline modules.
import { describe, expect, it } from 'vitest';
import { ampioChecks } from '../../../src/ampio/doctor.js';
import { emptyHouse, parseHouseFile } from '../../../src/ampio/house-file.js';
import { Inventory } from '../../../src/ampio/inventory.js';
import { describeAmpio, describeFrame, formatModules, formatStates, houseNames, valueText } from '../../../src/ampio/present.js';
import { StateStore } from '../../../src/ampio/state-store.js';
import { AmpioTap } from '../../../src/ampio/tap.js';
import type { AmpioSnapshot, ModuleEntry } from '../../../src/ampio/types.js';
import { makeFrame } from '../../../src/core/frame.js';

const frame = (id: number, hex: string, extended = true) =>
  makeFrame({ id, extended, data: hex.split(' ').map((b) => Number.parseInt(b, 16)), timestamp: 1000 });

function tap() {
  const house = emptyHouse();
  let scheduled = 0;
  const t = new AmpioTap({
    inventory: new Inventory(
      () => 0,
      () => house,
    ),
    store: new StateStore(),
    schedule: () => void scheduled++,
  });
  return { t, scheduled: () => scheduled };
}

describe('ampio tap', () => {
  it('takes state broadcasts of both directions, nothing else, and schedules one drain per batch', () => {
    const { t, scheduled } = tap();
    const bus = { index: 1, name: 'can1' };
    t.received(bus, frame(0x10, 'FE 4F 78 7D'));
    t.transmitted(bus, frame(0x11, 'FE 1E 01'), { session: 3, protocol: 'cannelloni' });
    t.received(bus, frame(0x12, '0A 4F 78 7D'));
    t.received(bus, frame(0x123, 'FE 4F 78 7D', false));
    t.received(bus, frame(0x0f000000, 'FE 15 00 00'));
    t.received(bus, makeFrame({ id: 0x10, extended: true, fd: true, data: new Array(12).fill(0xfe) }));
    expect(scheduled()).toBe(1);
    t.drain();
    expect(t.counters().frames).toBe(2);
    t.received(bus, frame(0x10, 'FE 4F 78 7D'));
    expect(scheduled()).toBe(2);
  });

  it('drops and counts frames beyond its ring while the drain is late', () => {
    const { t } = tap();
    const bus = { index: 0, name: 'can0' };
    for (let i = 0; i < 16_384 + 5; i++) t.received(bus, frame(0x10, 'FE 4F 78 7D'));
    expect(t.dropped).toBe(5);
    t.drain();
    expect(t.counters()).toMatchObject({ frames: 16_384, decoded: 16_384 });
    expect(t.repeats).toBe(16_383);
  });
});

describe('ampio present', () => {
  const house = parseHouseFile(
    'devices:\n  - can_id: 0x10\n    name: Relays\n    switches:\n      - id: switch3\n        name: Pump\n        states: [bout.3]\n',
    'h.yaml',
  );

  it('describes a frame in one line, with names from the house file', () => {
    const names = houseNames(house);
    expect(describeFrame(frame(0x10, 'FE 1E 05 00 00 00 00 00'), names)).toBe('Relays (0x00000010): bout.1–48 on: bout.1, bout.3 "Pump"');
    expect(describeFrame(frame(0x10, 'FE 1E 00 00 00 00 00 00'))).toBe('0x00000010: bout.1–48 on: none');
    expect(describeFrame(frame(0x11, 'FE 06 BF 04'))).toBe('0x00000011: temperature.1=21.5 °C');
    expect(describeFrame(frame(0x11, 'FE 4F 69'))).toBe('0x00000011 FE 4F: truncated');
    expect(describeFrame(frame(0x11, '10 EF 00'))).toBe('0x00000011: response.1=status=0 response=OK');
    expect(describeFrame(frame(0x11, 'FE 19 0F'))).toBe(
      '0x00000011: armed.1=on armed.2=on armed.3=on armed.4=on armed.5=off armed.6=off armed.7=off armed.8=off',
    );
    expect(describeFrame(frame(0x11, '0A 00'))).toBe('');
  });

  it('writes values with units', () => {
    expect(valueText(true, null)).toBe('on');
    expect(valueText(128, null)).toBe('128');
    expect(valueText(21.5, '°C')).toBe('21.5 °C');
    expect(valueText({ voltage: 24, temperature: 25 }, null)).toBe('24 V, 25 °C');
    expect(valueText({ red: 1, green: 2, blue: 3, white: 4 }, null)).toBe('red=1 green=2 blue=3 white=4');
  });

  it('formats the state table', () => {
    const text = formatStates(
      [
        {
          module: 0x10,
          moduleKey: '00000010',
          moduleName: 'Relays',
          kind: 'bout',
          channel: 3,
          ref: 'bout.3',
          names: ['Pump'],
          value: true,
          unit: null,
          changedAt: 0,
          seenAt: 0,
        },
      ],
      65_000,
    );
    expect(text).toMatch(/^MODULE\s+STATE\s+NAME\s+VALUE\s+CHANGED\nRelays \(0x00000010\)\s+bout\.3\s+Pump\s+on\s+1m 5s\n$/);
    expect(formatStates([], 0)).toBe('no decoded values (yet)\n');
  });
});

const T = 1_800_000_000_000;
const entry = (address: number, over: Partial<ModuleEntry>): ModuleEntry => ({
  address,
  key: address.toString(16).padStart(8, '0'),
  name: null,
  model: null,
  area: null,
  bus: 'can0',
  firstSeen: T,
  lastSeen: T,
  frames: 5,
  rate: 0,
  types: [],
  supplyVolts: 24,
  temperatureC: 30,
  online: true,
  known: false,
  ...over,
});
const snapshot = (modules: ModuleEntry[], error: string | null = null): AmpioSnapshot => ({
  house: { path: '/h.yaml', devices: 1, entities: 2, loadedAt: T, error },
  offlineAfterMs: 90_000,
  lowSupplyVolts: 21.6,
  modules,
  decode: { frames: 0, decoded: 0, truncated: 0, unknown: 0, byType: {}, unknownTypes: {} },
});

describe('ampio doctor checks and the modules table', () => {
  it('all well: one ok line', () => {
    expect(ampioChecks(snapshot([entry(0x10, {})]), T)).toEqual([
      { id: 'ampio-house-file', status: 'ok', title: 'Ampio house file /h.yaml', detail: '1 modules, 2 entities' },
      { id: 'ampio-modules', status: 'ok', title: 'Ampio modules', detail: '1 online, supplies at or above 21.6 V' },
    ]);
  });

  it('warns about a sagging supply (below, not at, the threshold), an offline module and a bad house file', () => {
    const checks = ampioChecks(
      snapshot(
        [
          entry(0x10, { name: 'Relays', supplyVolts: 21.4 }),
          entry(0x11, { supplyVolts: 21.6 }),
          entry(0x12, { online: false, lastSeen: T - 120_000 }),
          entry(0x13, { frames: 0, online: false }),
        ],
        '/h.yaml:3:4: bad',
      ),
      T,
    );
    expect(checks.map((c) => [c.id, c.status, c.title, c.detail])).toEqual([
      ['ampio-house-file', 'warn', 'Ampio house file', '/h.yaml:3:4: bad'],
      ['ampio-supply-00000010', 'warn', 'Ampio module Relays (0x00000010) supply', '21.4 V, below 21.6 V (--ampio-low-supply)'],
      ['ampio-offline-00000012', 'warn', 'Ampio module 0x00000012 offline', 'silent for 2m 0s (offline after 1m 30s)'],
    ]);
    for (const c of checks) expect(c.fix).toBeTruthy();
    expect(ampioChecks(undefined, T)).toEqual([{ id: 'ampio', status: 'ok', title: 'Ampio decoding', detail: 'off (serve runs with --ampio=false)' }]);
  });

  it('status gets one line about the house', () => {
    expect(describeAmpio(snapshot([entry(0x10, {})]))).toEqual({
      text: 'ampio: 1 modules heard, 1 online · 0 state frames (0 of unknown types) · names from /h.yaml — see `ampio-bridge modules`',
      warn: false,
    });
    expect(describeAmpio(snapshot([entry(0x10, { supplyVolts: 20 }), entry(0x11, { online: false })]))).toMatchObject({
      text: expect.stringContaining('2 modules heard, 1 online · 1 with a low supply'),
      warn: true,
    });
  });

  it('the modules table marks LOW supplies and offline modules', () => {
    const text = formatModules(snapshot([entry(0x10, { name: 'Relays', supplyVolts: 21.4 }), entry(0x12, { online: false, lastSeen: T - 120_000 })]), T);
    expect(text).toMatch(/0x00000010\s+Relays\s+-\s+-\s+21\.4 V LOW\s+30 °C\s+0\.0s ago\s+online/);
    expect(text).toMatch(/0x00000012\s+-\s+-\s+-\s+24\.0 V\s+30 °C\s+2m 0s ago\s+OFFLINE/);
    expect(text).toContain('1 of 2 online · offline after 1m 30s of silence');
  });
});
