// The pure parts of the MQTT service: topic names, payloads, the raw-frame format, the
// command router and the retained set.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ampioCommands } from '../../../src/ampio/commands.js';
import { parseHouseFile } from '../../../src/ampio/house-file.js';
import { makeFrame } from '../../../src/core/frame.js';
import { commandFrames } from '../../../src/mqtt/commands.js';
import { parseMqttUrl, parseTopicPrefix, redactMqttUrl } from '../../../src/config/options-mqtt.js';
import { parseRawPayload, rawPayload, rawTopic, rawTopicBase } from '../../../src/mqtt/raw-format.js';
import { RetainedSet } from '../../../src/mqtt/retained-set.js';
import { describeMqtt } from '../../../src/control/mqtt-snapshot.js';
import { commandTopic, defaultPrefix, parseCommandTopic, statePayload, stateTopic } from '../../../src/mqtt/topics.js';

const house = parseHouseFile(fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/ampio/house.yaml'), 'utf8'), 'house.yaml', 1000);
const hex = (frames: Array<{ data: Uint8Array }>) => frames.map((f) => Buffer.from(f.data).toString('hex'));

describe('topics and payloads', () => {
  it('one retained topic per module × kind × channel, plain payloads', () => {
    expect(stateTopic('ampio/pi', 0x1a1e, 'bout', 3)).toBe('ampio/pi/00001a1e/bout/3');
    expect(statePayload(true)).toBe('ON');
    expect(statePayload(false)).toBe('OFF');
    expect(statePayload(21.5)).toBe('21.5');
    expect(statePayload(0.1 + 0.2)).toBe('0.3');
    expect(statePayload({ red: 1, green: 2, blue: 3, white: 4 })).toBe('{"red":1,"green":2,"blue":3,"white":4}');
  });

  it('command topics parse back; nothing else does', () => {
    const t = commandTopic('ampio/pi', 0x1a1e, 'switch3', 'state');
    expect(t).toBe('ampio/pi/set/00001a1e/switch3');
    expect(parseCommandTopic('ampio/pi', t)).toEqual({ module: 0x1a1e, entityId: 'switch3', part: 'state' });
    expect(parseCommandTopic('ampio/pi', 'ampio/pi/set/000019c7/light2/brightness')).toEqual({ module: 0x19c7, entityId: 'light2', part: 'brightness' });
    for (const bad of [
      'ampio/pi/00001a1e/bout/3',
      'ampio/pi/set/1a1e/x',
      'ampio/pi/set/00001a1e/x/colour',
      'ampio/other/set/00001a1e/x',
      'ampio/pi/set/00001a1e',
    ]) {
      expect(parseCommandTopic('ampio/pi', bad)).toBeNull();
    }
  });

  it('the default prefix names the site', () => {
    expect(defaultPrefix('raspberrypi.local')).toBe('ampio/raspberrypi');
    expect(defaultPrefix('my pi')).toBe('ampio/my-pi');
  });

  it('URLs: mqtt:// and mqtts:// only, passwords never shown', () => {
    expect(parseMqttUrl('mqtt://u:p@127.0.0.1:1883')).toBe('mqtt://u:p@127.0.0.1:1883');
    expect(parseMqttUrl('')).toBe('');
    expect(() => parseMqttUrl('http://x')).toThrow(/mqtt:\/\//);
    expect(() => parseMqttUrl('mqtt://h/path')).toThrow(/path/);
    expect(redactMqttUrl('mqtts://user:secret@h:8883')).toBe('mqtts://user:***@h:8883');
    expect(parseTopicPrefix('/ampio/home/')).toBe('ampio/home');
    expect(() => parseTopicPrefix('ampio/#')).toThrow(/topic prefix/);
  });
});

describe("raw frames in SavvyCAN's MQTT format", () => {
  it('topic <one level>/<decimal id>; payload = 8-byte LE µs timestamp, flags, data', () => {
    const f = makeFrame({ id: 0x1a1e, extended: true, data: [0xfe, 0x4f, 0x78, 0x82], timestamp: 1_700_000_000_123.456 });
    const base = rawTopicBase('ampio/pi', 'can0');
    expect(base).toBe('ampio-pi-can0');
    expect(rawTopic(base, f)).toBe(`ampio-pi-can0/${0x1a1e}`);
    const p = rawPayload(f, false);
    expect(p.readBigUInt64LE(0)).toBe(1_700_000_000_123_456n);
    expect(p[8]).toBe(0x01);
    expect([...p.subarray(9)]).toEqual([0xfe, 0x4f, 0x78, 0x82]);
    expect(rawPayload(makeFrame({ id: 0x123, data: [1] }), true)[8]).toBe(0x10);
    expect(parseRawPayload(rawTopic(base, f), p)).toEqual({
      id: 0x1a1e,
      timestampUs: 1_700_000_000_123_456n,
      flags: 1,
      data: new Uint8Array([0xfe, 0x4f, 0x78, 0x82]),
    });
  });
});

describe('commands → Ampio frames', () => {
  const run = (entity: string, module: number, part: 'state' | 'brightness' | 'position', payload: string) =>
    commandFrames(house, ampioCommands, { module, entityId: entity, part }, payload);

  it('a switch on a binary output: 15 FF|00 <index−1> to 0x0F000000', () => {
    const r = run('switch3', 0x1a1e, 'state', 'ON');
    expect(r.ok && hex(r.frames)).toEqual(['00001a1e15ff02']);
    const off = run('switch3', 0x1a1e, 'state', 'OFF');
    expect(off.ok && off.frames[0].id).toBe((0x0f000000 | 0x80000000) >>> 0);
    expect(off.ok && hex(off.frames)).toEqual(['00001a1e150002']);
  });

  it('a dimmer takes a brightness, ON/OFF drive it full or off', () => {
    const r = run('light2', 0x19c7, 'brightness', '128');
    expect(r.ok && hex(r.frames)).toEqual(['000019c715800100']);
    const on = run('light2', 0x19c7, 'state', 'ON');
    expect(on.ok && hex(on.frames)).toEqual(['000019c715ff0100']);
  });

  it('a light follows its module model: single-frame on MDIM/MREL8S, multi-frame 30 F9 / 36 F9 elsewhere, four channels on MRGBW', () => {
    const yaml = [
      'devices:',
      '  - { can_id: 0x2001, name: Relays, model: 22, lights: [{ id: light4, name: Porch, states: [bout.4] }] }',
      '  - { can_id: 0x2002, name: Servo, model: 10, lights: [{ id: light1, name: Wall, states: [aout.1] }] }',
      '  - { can_id: 0x2003, name: Strip, model: 12, lights: [{ id: light1, name: Strip, states: [rgb.1] }] }',
    ].join('\n');
    const other = parseHouseFile(yaml, 'inline.yaml');
    const cmd = (entity: string, module: number, part: 'state' | 'brightness', payload: string) =>
      commandFrames(other, ampioCommands, { module, entityId: entity, part }, payload);
    // MRT16S (22): multi-frame 30 F9 01 03 — header chunk [2, sum], then 2-byte chunks.
    const porch = cmd('light4', 0x2001, 'state', 'ON');
    expect(porch.ok && hex(porch.frames)).toEqual(['000020011600022d', '000020011601' + '30f9', '000020011602' + '0103']);
    // MSERVs (10): 36 F9 <level> <index−1>.
    const wall = cmd('light1', 0x2002, 'brightness', '200');
    expect(wall.ok && hex(wall.frames)).toEqual([
      `00002002160002${((0x36 + 0xf9 + 200) & 0xff).toString(16)}`,
      '000020021601' + '36f9',
      '000020021602' + 'c800',
    ]);
    // MRGBW (12): 15 FF <channel> for the four channels.
    const strip = cmd('light1', 0x2003, 'state', 'ON');
    expect(strip.ok && hex(strip.frames)).toEqual(['0000200315ff00', '0000200315ff01', '0000200315ff02', '0000200315ff03']);
    expect(cmd('light1', 0x2003, 'brightness', '9')).toMatchObject({ ok: false, reason: 'not_controllable' });
    expect(cmd('light4', 0x2001, 'brightness', '9')).toMatchObject({ ok: false, reason: 'not_controllable' });
  });

  it('refusals say why', () => {
    expect(run('nope', 0x1a1e, 'state', 'ON')).toMatchObject({ ok: false, reason: 'unknown_entity' });
    expect(run('switch3', 0x1a1e, 'state', 'maybe')).toMatchObject({ ok: false, reason: 'bad_payload' });
    expect(run('light2', 0x19c7, 'brightness', '300')).toMatchObject({ ok: false, reason: 'bad_payload' });
    expect(run('input1', 0x1a1e, 'state', 'ON')).toMatchObject({ ok: false, reason: 'not_controllable' });
  });
});

describe('the retained set', () => {
  const sink = () => {
    const sent: Array<[string, string]> = [];
    let open = true;
    return { sent, setOpen: (v: boolean) => (open = v), publish: (t: string, p: string) => (open ? (sent.push([t, p]), true) : false) };
  };

  it('sends each change once, the newest value only, and never an unchanged one', () => {
    const s = sink();
    const set = new RetainedSet(s, 100, () => {});
    set.set('a', '1');
    set.set('a', '2');
    set.set('b', 'x');
    set.set('b', 'x');
    set.flush();
    expect(s.sent).toEqual([
      ['a', '2'],
      ['b', 'x'],
    ]);
    expect(set.coalesced).toBe(1);
  });

  it('a broker that cannot take more: the rest waits, coalesced; a reconnection sends the present, not a backlog', () => {
    const s = sink();
    const set = new RetainedSet(s, 100, () => {});
    s.setOpen(false);
    for (let i = 0; i < 1000; i++) set.set('v', String(i));
    set.flush();
    expect(set.pending).toBe(1);
    s.setOpen(true);
    set.markAllDirty();
    set.flush();
    expect(s.sent).toEqual([['v', '999']]);
  });

  it('a deleted topic goes out empty once (removes a retained value or a discovery config); the set is bounded', () => {
    const s = sink();
    const set = new RetainedSet(s, 2, () => {});
    set.set('a', '1');
    set.set('b', '1');
    set.set('c', '1');
    expect(set.refused).toBe(1);
    set.flush();
    set.delete('a');
    set.flush();
    expect(s.sent.at(-1)).toEqual(['a', '']);
    expect(set.size).toBe(1);
  });
});

describe('the status line', () => {
  const base = {
    state: 'connected' as const,
    broker: 'mqtts://u:***@broker:8883',
    prefix: 'ampio/pi',
    since: 0,
    connects: 1,
    disconnects: 0,
    lastError: null,
    listenOnly: false,
    topics: 10,
    pending: 0,
    published: 1234,
    superseded: 0,
    commands: { received: 3, sent: 3, refused: {}, failed: {} },
  };
  it('says off, connected, listen-only, raw, and warns when disconnected or a command failed', () => {
    expect(describeMqtt(undefined, 0)).toEqual({ text: 'mqtt off', warn: false });
    expect(describeMqtt(base, 1000)).toEqual({
      text: 'mqtt connected · mqtts://u:***@broker:8883 · 1,234 published · 3 commands (0 refused, 0 failed)',
      warn: false,
    });
    expect(describeMqtt({ ...base, listenOnly: true, raw: { published: 10, dropped: { rate: 1, queue: 2, broker: 3 } } }, 0, { compact: true }).text).toBe(
      'mqtt connected · 1,234 published · listen-only · raw 10 sent, 6 dropped',
    );
    expect(describeMqtt({ ...base, state: 'disconnected', since: 0, lastError: 'connect ECONNREFUSED' }, 65_000)).toMatchObject({
      text: expect.stringMatching(/^mqtt disconnected 65s · .* · connect ECONNREFUSED$/),
      warn: true,
    });
    expect(describeMqtt({ ...base, commands: { ...base.commands, failed: { stale: 1 } } }, 0).warn).toBe(true);
  });
});
