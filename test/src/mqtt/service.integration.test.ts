// The MQTT service against a real broker (Debian's mosquitto on 127.0.0.1, password file,
// TLS listener with certificates made here): the real ampio service decodes frames put into
// its tap; the buses are recorders of what the TX path was asked to send. mosquitto_sub and
// mosquitto_pub are the other side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ampioCommands } from '../../../src/ampio/commands.js';
import { createAmpioService } from '../../../src/ampio/service.js';
import type { SendResult } from '../../../src/backends/types.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/options.js';
import type { Snapshot } from '../../../src/control/protocol.js';
import { type CanFrame, makeFrame } from '../../../src/core/frame.js';
import type { ServiceBus } from '../../../src/daemon/services.js';
import { MqttService } from '../../../src/mqtt/service.js';
import { validateDiscovery } from '../../support/ha-discovery-schema.js';
import { parseRawPayload } from '../../../src/mqtt/raw-format.js';
import { type Broker, publish, retainedMessages, startBroker, subscribe } from '../../support/mosquitto.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/ampio/house.yaml');

function config(args: string[]): Config {
  const r = loadConfig({ argv: args, env: {}, isRoot: false, cwd: os.tmpdir() });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

class RecordingBus implements ServiceBus {
  readonly index = 0;
  readonly name = 'can0';
  sent: CanFrame[] = [];
  refused: string[] = [];
  bitrate() {
    return 50_000;
  }
  send(frame: CanFrame): SendResult {
    this.sent.push(frame);
    return { ok: true };
  }
  refuseFromClient(_f: CanFrame, reason: string): SendResult {
    this.refused.push(reason);
    return { ok: false, reason: reason as never };
  }
}

const logs: Array<{ level: string; event: string; fields?: Record<string, unknown> }> = [];
const log = (level: string, event: string, fields?: Record<string, unknown>) => void logs.push({ level, event, fields });
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as never;

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const snapshot = (): Snapshot =>
  ({ time: Date.now(), totals: { active: 2 }, buses: [{ name: 'can0', busLoad: 12.34, rxKernelDrops: 0 }] }) as unknown as Snapshot;

let broker: Broker;
let dir: string;
beforeAll(async () => {
  broker = await startBroker({ tls: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-mqtt-svc-'));
});
afterAll(async () => {
  await broker?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const running: MqttService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  logs.length = 0;
});

function setup(args: string[], opts: { backoff?: { initial: number; max: number } } = {}) {
  const c = config(['--backend', 'virtual', '--ampio-config', FIXTURE, ...args]);
  const ampio = createAmpioService(c, { log: silent });
  const bus = new RecordingBus();
  const svc = new MqttService({
    config: c,
    hostname: 'pi',
    version: 'test',
    buses: [bus],
    view: ampio.view,
    encoders: ampioCommands,
    snapshot,
    log,
    backoff: opts.backoff,
  });
  running.push(svc);
  const frame = (id: number, bytes: number[]) => {
    ampio.tap.received(bus, makeFrame({ id, extended: true, data: bytes, timestamp: Date.now() }));
    ampio.tap.drain();
  };
  return { c, ampio, bus, svc, frame };
}

describe('MQTT service with mosquitto', () => {
  it('publishes retained state with exact values, valid discovery, availability; commands reach the TX path', async () => {
    const { ampio, bus, svc, frame } = setup(['--mqtt-url', broker.url(), '--mqtt-prefix', 'test/a']);
    // A retained command (left by some client) would replay at every connection: refused.
    await publish(broker, 'test/a/set/00001a1e/switch3', 'OFF', { retain: true });
    await ampio.start();
    await svc.start();
    await until('connected', () => svc.snapshot().state === 'connected');
    await until('retained command refused', () => svc.snapshot().commands.refused.retained === 1);
    await publish(broker, 'test/a/set/00001a1e/switch3', '', { retain: true });
    frame(0x1a1e, [0xfe, 0x4f, 0x78, 0x7d]); // 24.0 V, 25 °C
    frame(0x1a1e, [0xfe, 0x1e, 0x05, 0, 0, 0, 0, 0]); // bout 1 and 3 on
    frame(0x19c7, [0xfe, 0x0c, 0, 200, 0, 0, 0, 0]); // aout 2 = 200
    const state = await until('state topics', async () => {
      const m = await retainedMessages(broker, 'test/a/#');
      return m.get('test/a/000019c7/aout/2') === '200' ? m : null;
    });
    expect(state.get('test/a/availability')).toBe('online');
    expect(state.get('test/a/00001a1e/bout/1')).toBe('ON');
    expect(state.get('test/a/00001a1e/bout/2')).toBe('OFF');
    expect(state.get('test/a/00001a1e/bout/3')).toBe('ON');
    expect(state.get('test/a/00001a1e/voltage')).toBe('24');
    expect(state.get('test/a/00001a1e/temperature')).toBe('25');
    expect(state.get('test/a/00001a1e/online')).toBe('ON');
    expect(state.get('test/a/bridge/can0/bus_load')).toBe('12.3');

    const discovery = await retainedMessages(broker, 'homeassistant/#');
    const ours = [...discovery].filter(([t]) => t.includes('ampio_'));
    expect(ours.length).toBeGreaterThan(10);
    expect(ours.flatMap(([t, p]) => validateDiscovery(t, p))).toEqual([]);
    const sw = JSON.parse(discovery.get('homeassistant/switch/ampio_00001a1e/switch3/config') ?? '{}') as { command_topic: string };
    expect(sw.command_topic).toBe('test/a/set/00001a1e/switch3');

    await publish(broker, sw.command_topic, 'ON');
    await until('command frame', () => bus.sent.length === 1);
    expect(bus.sent[0].id).toBe((0x0f000000 | 0x80000000) >>> 0);
    expect(Buffer.from(bus.sent[0].data).toString('hex')).toBe('00001a1e15ff02');
    await publish(broker, 'test/a/set/000019c7/light2/brightness', '77');
    await until('dimmer frame', () => bus.sent.length === 2);
    expect(Buffer.from(bus.sent[1].data).toString('hex')).toBe('000019c7154d0100');
    await publish(broker, 'test/a/set/00001a1e/nope', 'OFF');
    await publish(broker, 'test/a/set/00001a1e/nope', 'ON');
    await until('refusals', () => svc.snapshot().commands.refused.unknown_entity === 2);
    expect(bus.sent).toHaveLength(2);
    expect(svc.snapshot().commands).toMatchObject({ sent: 2, refused: { retained: 1, unknown_entity: 2 } });
    // Each reason is logged once, then only counted.
    expect(logs.filter((l) => l.event === 'mqtt_command_refused')).toHaveLength(2);

    await svc.stop();
    expect((await retainedMessages(broker, 'test/a/availability')).get('test/a/availability')).toBe('offline');
    await ampio.stop();
  });

  it('--tx-allow that excludes the broker: listen-only, no command topics, nothing sent; entities gone from the house file are removed', async () => {
    const { ampio, bus, svc } = setup(['--mqtt-url', broker.url(), '--mqtt-prefix', 'test/ro', '--tx-allow', '10.0.0.0/8']);
    // Left by an earlier run whose house file had one more switch; and another integration's config.
    await publish(broker, 'homeassistant/switch/ampio_00001a1e/gone7/config', '{"name":"Gone"}', { retain: true });
    await publish(broker, 'homeassistant/switch/zigbee_0x1234/relay/config', '{"name":"Not ours"}', { retain: true });
    await ampio.start();
    await svc.start();
    await until('connected', () => svc.snapshot().state === 'connected');
    expect(svc.snapshot().listenOnly).toBe(true);
    const discovery = await until('discovery', async () => {
      const m = await retainedMessages(broker, 'homeassistant/+/ampio_00001a1e/+/config');
      return m.size > 3 ? m : null;
    });
    for (const p of discovery.values()) expect(p).not.toMatch(/command_topic/);
    await until(
      'stale config emptied',
      async () => !(await retainedMessages(broker, 'homeassistant/switch/#', 1)).has('homeassistant/switch/ampio_00001a1e/gone7/config'),
    );
    expect((await retainedMessages(broker, 'homeassistant/switch/zigbee_0x1234/#', 1)).size).toBe(1);
    await publish(broker, 'homeassistant/switch/zigbee_0x1234/relay/config', '', { retain: true });
    await publish(broker, 'test/ro/set/00001a1e/switch3', 'ON');
    await new Promise((r) => setTimeout(r, 500));
    expect(bus.sent).toEqual([]);
    await ampio.stop();
  });

  it('mqtts:// with the test CA and a client certificate; without the CA it refuses the broker and says why', async () => {
    const ok = setup([
      '--mqtt-url',
      broker.url(true),
      '--mqtt-prefix',
      'test/tls',
      '--mqtt-ca',
      broker.caFile,
      '--mqtt-cert',
      broker.clientCert,
      '--mqtt-key',
      broker.clientKey,
    ]);
    await ok.svc.start();
    await until('tls connected', () => ok.svc.snapshot().state === 'connected');
    expect((await retainedMessages(broker, 'test/tls/availability')).get('test/tls/availability')).toBe('online');

    const bad = setup(['--mqtt-url', broker.url(true), '--mqtt-prefix', 'test/tls2'], { backoff: { initial: 200, max: 400 } });
    await bad.svc.start();
    await until('tls refusal', () => bad.svc.snapshot().lastError);
    expect(bad.svc.snapshot().state).not.toBe('connected');
    expect(bad.svc.snapshot().lastError).toMatch(/certificate/i);
    // One log line for the state change, not one per retry.
    await new Promise((r) => setTimeout(r, 1000));
    expect(logs.filter((l) => l.event === 'mqtt_connect_failed' && String(l.fields?.broker).includes(String(broker.tlsPort))).length).toBe(1);
  });

  it('a wrong password is refused by the broker and reported', async () => {
    const { svc } = setup(['--mqtt-url', broker.url().replace(broker.password, 'wrong'), '--mqtt-prefix', 'test/pw'], { backoff: { initial: 200, max: 400 } });
    await svc.start();
    await until('auth error', () => svc.snapshot().lastError);
    expect(svc.snapshot().lastError).toMatch(/not authorized|bad user name or password/i);
  });

  it('broker restarted: reconnects and republishes the present state, not what happened meanwhile', async () => {
    const { ampio, svc, frame } = setup(['--mqtt-url', broker.url(), '--mqtt-prefix', 'test/re'], { backoff: { initial: 200, max: 1000 } });
    await ampio.start();
    await svc.start();
    await until('connected', () => svc.snapshot().state === 'connected');
    frame(0x19c7, [0xfe, 0x0c, 0, 10, 0, 0, 0, 0]);
    await until('first value', async () => (await retainedMessages(broker, 'test/re/000019c7/aout/2', 1)).get('test/re/000019c7/aout/2') === '10');
    await broker.stop(); // persistence off: the broker forgets every retained message
    await until('disconnected', () => svc.snapshot().state === 'disconnected');
    for (let v = 11; v <= 60; v++) frame(0x19c7, [0xfe, 0x0c, 0, v, 0, 0, 0, 0]);
    await broker.start();
    await until('reconnected', () => svc.snapshot().state === 'connected' && svc.snapshot().connects === 2);
    const m = await until('republished', async () => {
      const r = await retainedMessages(broker, 'test/re/#', 1);
      return r.get('test/re/000019c7/aout/2') === '60' ? r : null;
    });
    expect(m.get('test/re/availability')).toBe('online');
    expect(svc.snapshot().disconnects).toBe(1);
    expect(logs.filter((l) => l.event === 'mqtt_disconnected')).toHaveLength(1);
    expect(logs.filter((l) => l.event === 'mqtt_connected')).toHaveLength(2);
    await ampio.stop();
  });

  it("--mqtt-raw: bus frames in SavvyCAN's format, bounded by --mqtt-raw-rate, the rest dropped and counted", async () => {
    const { bus, svc } = setup(['--mqtt-url', broker.url(), '--mqtt-prefix', 'test/raw', '--mqtt-raw', '--mqtt-raw-rate', '50']);
    await svc.start();
    await until('connected', () => svc.snapshot().state === 'connected');
    const sub = subscribe(broker, 'test-raw-can0/+', { hex: true });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t = 1_700_000_000_000.5;
      for (let i = 0; i < 200; i++) svc.tap!.received(bus, makeFrame({ id: 0x1a1e, extended: true, data: [0xfe, i & 0xff], timestamp: t + i }));
      svc.tap!.transmitted(bus, makeFrame({ id: 0x123, data: [1] }));
      await until('50 raw frames at the subscriber', () => sub.lines.length >= 50);
      await new Promise((r) => setTimeout(r, 300));
      expect(sub.lines).toHaveLength(50);
      const [topic, hex] = sub.lines[0].split('\t');
      expect(topic).toBe(`test-raw-can0/${0x1a1e}`);
      const p = parseRawPayload(topic, Buffer.from(hex, 'hex'));
      expect(p).toEqual({ id: 0x1a1e, timestampUs: 1_700_000_000_000_500n, flags: 1, data: new Uint8Array([0xfe, 0]) });
      expect(svc.snapshot().raw).toEqual({ published: 50, dropped: { rate: 151, queue: 0, broker: 0 } });
    } finally {
      sub.stop();
    }
  });

  it('SIGHUP with a --tx-allow that leaves the broker out: listen-only from then on, discovery without commands', async () => {
    const { ampio, bus, svc } = setup(['--mqtt-url', broker.url(), '--mqtt-prefix', 'test/hup']);
    await ampio.start();
    await svc.start();
    await until('connected', () => svc.snapshot().state === 'connected');
    expect(svc.snapshot().listenOnly).toBe(false);
    svc.reload(
      config(['--backend', 'virtual', '--ampio-config', FIXTURE, '--mqtt-url', broker.url(), '--mqtt-prefix', 'test/hup', '--tx-allow', '10.0.0.0/8']),
    );
    expect(svc.snapshot().listenOnly).toBe(true);
    await until('switch config without command topic', async () => {
      const m = await retainedMessages(broker, 'homeassistant/switch/ampio_00001a1e/switch3/config', 1);
      const p = m.get('homeassistant/switch/ampio_00001a1e/switch3/config');
      return p !== undefined && !p.includes('command_topic');
    });
    await publish(broker, 'test/hup/set/00001a1e/switch3', 'ON');
    await new Promise((r) => setTimeout(r, 500));
    expect(bus.sent).toEqual([]);
    await ampio.stop();
  });
});
