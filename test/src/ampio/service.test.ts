// The ampio service without sockets: frames into its tap, then the inventory, the state
// store (values, change times, subscriptions, repeats), decode counters, offline after
// silence (an injected clock), the house file on start and on reload (a bad file keeps the
// previous names), and the snapshot section.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAmpioService } from '../../../src/ampio/service.js';
import type { StateChange } from '../../../src/ampio/types.js';
import type { Snapshot } from '../../../src/control/protocol.js';
import { makeFrame } from '../../../src/core/frame.js';

const FIXTURE = new URL('../../fixtures/ampio/house.yaml', import.meta.url);
const BUS = { index: 0, name: 'can0' };

function silentLog() {
  const lines: Array<{ level: string; event: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) => void lines.push({ level, event, fields });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as never };
}

let dir: string;
let mono = 0;
let wall = 1_700_000_000_000;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-service-'));
  mono = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function service(configPath = '') {
  const { log, lines } = silentLog();
  const s = createAmpioService({ ampioConfig: configPath, ampioOfflineAfter: 90_000, ampioLowSupply: 21.6 }, { log, now: () => mono, wallClock: () => wall });
  const send = (id: number, hex: string, t = wall) => {
    const f = makeFrame({ id, extended: true, data: hex.split(' ').map((b) => Number.parseInt(b, 16)), timestamp: t });
    s.tap.received(BUS, f);
    s.tap.drain();
  };
  return { s, send, lines };
}

describe('ampio service', () => {
  it('builds the inventory and the store from broadcasts, with names from the house file', async () => {
    const file = path.join(dir, 'house.yaml');
    fs.copyFileSync(FIXTURE, file);
    const { s, send } = service(file);
    await s.start();
    send(0x1a1e, 'FE 4F 78 7D');
    send(0x1a1e, 'FE 1B 01 00 00 00 00 00');
    send(0x1a1e, 'FE 1E 04 00 00 00 00 00');
    send(0x1ff0, 'FE 06 D9 04');
    const modules = s.view.modules();
    expect(modules.map((m) => [m.key, m.name, m.model, m.online, m.frames, m.known])).toEqual([
      ['00001879', 'Colour strip', 'MRGBW', false, 0, true],
      ['00001886', 'Sensors living room', 'MSENS', false, 0, true],
      ['000019c7', 'Dimmer living room', 'MDIM', false, 0, true],
      ['00001a1e', 'Relays ground floor', 'MREL8S', true, 3, true],
      ['00001e5d', 'Blinds', 'MROL4S', false, 0, true],
      ['00001ff0', null, null, true, 1, false],
    ]);
    const relays = modules[3];
    expect(relays).toMatchObject({ supplyVolts: 24, temperatureC: 25, types: [0x1b, 0x1e, 0x4f], bus: 'can0', area: 'Technical room' });
    expect(s.view.state.get(0x1a1e, 'bin', 1)?.value).toBe(true);
    expect(s.view.state.get(0x1a1e, 'bout', 3)).toMatchObject({ value: true, changedAt: wall, seenAt: wall });
    const pump = s.view.stateViews('Garden pump').find((v) => v.ref === 'bout.3');
    expect(pump).toMatchObject({ moduleName: 'Relays ground floor', names: ['Garden pump'], value: true });
    expect(s.view.stateViews('0x1ff0').map((v) => [v.ref, v.value, v.unit])).toEqual([['temperature.1', 24.1, '°C']]);
    expect(s.view.stateViews('00001ff0')).toHaveLength(1);
    expect(s.view.stateViews('nobody')).toEqual([]);
    await s.stop();
  });

  it('a repeated frame updates seenAt only; a changed one notifies subscribers', () => {
    const { s, send } = service();
    const changes: StateChange[] = [];
    s.view.state.subscribe((c) => changes.push(c), { module: 0x10 });
    send(0x10, 'FE 1E 01');
    expect(changes.map((c) => [c.state.kind, c.state.channel, c.state.value, c.previous])).toEqual([
      ['bout', 1, true, undefined],
      ['bout', 2, false, undefined],
      ['bout', 3, false, undefined],
      ['bout', 4, false, undefined],
      ['bout', 5, false, undefined],
      ['bout', 6, false, undefined],
      ['bout', 7, false, undefined],
      ['bout', 8, false, undefined],
    ]);
    changes.length = 0;
    wall += 5000;
    send(0x10, 'FE 1E 01');
    expect(changes).toEqual([]);
    expect(s.tap.repeats).toBe(1);
    expect(s.view.state.get(0x10, 'bout', 1)).toMatchObject({ changedAt: wall - 5000, seenAt: wall });
    wall += 1000;
    send(0x10, 'FE 1E 03');
    expect(changes.map((c) => [c.state.channel, c.state.value, c.previous, c.state.changedAt])).toEqual([[2, true, false, wall]]);
    send(0x11, 'FE 1E 03');
    expect(changes).toHaveLength(1);
  });

  it('counts by type, truncated and unknown (unknown logged once per type)', () => {
    const { s, send, lines } = service();
    send(0x10, 'FE 4F 39');
    send(0x10, 'FE 4F 39');
    send(0x10, 'FE 2B 01 02');
    send(0x11, 'FE 2B 01 03');
    send(0x10, 'FE 4F 39 82');
    send(0x10, '0A 4F 39 82');
    expect(s.tap.counters()).toEqual({ frames: 5, decoded: 1, truncated: 2, unknown: 2, byType: { '2b': 2, '4f': 3 }, unknownTypes: { '2b': 2 } });
    expect(lines.filter((l) => l.event === 'ampio_unknown_type')).toHaveLength(1);
  });

  it('turns a silent module offline after --ampio-offline-after, and back online on its next frame', () => {
    const { s, send, lines } = service();
    send(0x10, 'FE 4F 78 7D');
    send(0x10, 'FE 4F 78 7D');
    expect(lines.filter((l) => l.event.startsWith('ampio_module_')).map((l) => [l.event, l.fields?.module])).toEqual([['ampio_module_found', '0x00000010']]);
    mono += 89_000;
    expect(s.view.modules()[0].online).toBe(true);
    mono += 2000;
    expect(s.view.modules()[0].online).toBe(false);
    expect(lines.some((l) => l.event === 'ampio_module_offline')).toBe(true);
    send(0x10, 'FE 4F 78 7D');
    expect(s.view.modules()[0].online).toBe(true);
    expect(lines.some((l) => l.event === 'ampio_module_online')).toBe(true);
  });

  it('a bad house file on reload is logged with line and column; the previous names stay', async () => {
    const file = path.join(dir, 'house.yaml');
    fs.copyFileSync(FIXTURE, file);
    const { s, lines } = service(file);
    await s.start();
    expect(s.view.house().devices).toHaveLength(5);
    fs.writeFileSync(file, 'devices:\n  - can_id: 1\n    name: R\n    colour: red\n');
    s.reload?.({ ampioConfig: file, ampioOfflineAfter: 90_000, ampioLowSupply: 21.6 } as never);
    expect(s.view.house().devices).toHaveLength(5);
    const failed = lines.find((l) => l.event === 'ampio_config_failed');
    expect(failed?.fields?.error).toBe(
      `${file}:4:5: unknown key "colour" in a device (known: can_id, name, model, id, pcb, sw_version, area, lights, switches, binary_sensors, sensors, covers, valves, climates, texts, alarm_control_panels)`,
    );
    const snap = {} as Snapshot;
    s.contribute?.(snap);
    expect(snap.ampio?.house).toMatchObject({ path: file, devices: 5, error: failed?.fields?.error });
    fs.writeFileSync(file, 'devices:\n  - can_id: 1\n    name: R\n');
    s.reload?.({ ampioConfig: file, ampioOfflineAfter: 60_000, ampioLowSupply: 11 } as never);
    expect(s.view.house().devices.map((d) => d.name)).toEqual(['R']);
    s.contribute?.(snap);
    expect(snap.ampio).toMatchObject({ house: { error: null, devices: 1 }, offlineAfterMs: 60_000, lowSupplyVolts: 11 });
    await s.stop();
  });

  it('a missing house file at start is an error, not a crash', async () => {
    const { s, lines } = service(path.join(dir, 'nope.yaml'));
    await s.start();
    expect(lines.find((l) => l.event === 'ampio_config_failed')?.fields?.error).toMatch(/nope\.yaml: no such file/);
    expect(s.view.house().devices).toEqual([]);
    await s.stop();
  });

  it('answers ampio_state and nothing else', () => {
    const { s, send } = service();
    send(0x10, 'FE 06 D9 04');
    expect(s.answer?.({ type: 'snapshot' })).toBeUndefined();
    expect(s.answer?.({ type: 'ampio_state' })).toMatchObject([{ moduleKey: '00000010', ref: 'temperature.1', value: 24.1 }]);
  });
});
