import '../../support/force-color.js';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import type { AmpioSnapshot, ModuleEntry } from '../../../src/ampio/types.js';
import { ModulesTable } from '../../../tui/components/ModulesTable.js';

const T = 1_800_000_000_000;
const module = (address: number, over: Partial<ModuleEntry>): ModuleEntry => ({
  address,
  key: address.toString(16).padStart(8, '0'),
  name: null,
  model: null,
  area: null,
  bus: 'can0',
  firstSeen: T - 60_000,
  lastSeen: T - 2000,
  frames: 10,
  rate: 1,
  types: [0x4f],
  supplyVolts: 24.2,
  temperatureC: 31,
  online: true,
  known: false,
  ...over,
});

const snapshot = (modules: ModuleEntry[]): AmpioSnapshot => ({
  house: { path: '/etc/ampio-bridge/house.yaml', devices: 2, entities: 3, loadedAt: T, error: null },
  offlineAfterMs: 90_000,
  lowSupplyVolts: 21.6,
  modules,
  decode: { frames: 1234, decoded: 1200, truncated: 0, unknown: 34, byType: {}, unknownTypes: {} },
});

describe('ModulesTable', () => {
  it('lists modules, offline and low supply first, with names, voltage, temperature and age', () => {
    const frame = plain(
      render(
        <ModulesTable
          ampio={snapshot([
            module(0x1a1e, { name: 'Relays', model: 'MREL8S', area: 'Hall' }),
            module(0x19c7, { name: 'Dimmer', model: 'MDIM', online: false, lastSeen: T - 125_000 }),
            module(0x1879, { supplyVolts: 20.4 }),
            module(0x1e5d, { name: 'Blinds', frames: 0, supplyVolts: null, temperatureC: null, known: true }),
          ])}
          height={8}
          width={100}
          now={T}
        />,
      ).lastFrame()!,
    );
    const lines = frame.split('\n').map((l) => l.trimEnd());
    expect(lines[0]).toBe('AMPIO MODULES 2 of 3 online · 1234 state frames');
    expect(lines[1]).toMatch(/^ADDRESS\s+NAME\s+MODEL\s+AREA\s+SUPPLY\s+TEMP\s+SEEN\s+STATE$/);
    expect(lines[2]).toMatch(/^0x000019c7\s+Dimmer\s+MDIM\s+-\s+24\.2 V\s+31 °C\s+2m 5s\s+OFFLINE$/);
    expect(lines[3]).toMatch(/^0x00001879\s+-\s+-\s+-\s+20\.4 V\s+31 °C\s+2\.0s\s+online$/);
    expect(lines[4]).toMatch(/^0x00001a1e\s+Relays\s+MREL8S\s+Hall\s+24\.2 V/);
    expect(lines[5]).toMatch(/^0x00001e5d\s+Blinds\s+-\s+-\s+-\s+-\s+never\s+never heard$/);
  });

  it('says when the bridge does not decode, and when rows do not fit', () => {
    expect(plain(render(<ModulesTable ampio={undefined} height={3} width={80} now={T} />).lastFrame()!)).toContain('--ampio=false');
    const many = Array.from({ length: 5 }, (_, i) => module(0x100 + i, {}));
    expect(plain(render(<ModulesTable ampio={snapshot(many)} height={4} width={100} now={T} />).lastFrame()!)).toContain('3 more: enlarge the terminal');
  });
});
