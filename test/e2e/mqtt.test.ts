// The built `serve --mqtt-url …` against a real mosquitto (127.0.0.1, password file): a
// cannelloni client plays scripted Ampio traffic, mosquitto_sub sees the retained state with
// exact values and discovery configs that pass Home Assistant's documented schema; a
// mosquitto_pub on a switch's command topic puts exactly the Ampio command frame on the bus
// (another cannelloni client sees it), and nothing when --tx-allow leaves the broker out;
// SIGKILL of the bridge flips availability to offline (the last will); a broker stopped for
// 30 s under 400 frames/s costs the clients nothing, and the bridge reconnects and
// republishes the present state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BridgeChild } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';
import { validateDiscovery } from '../support/ha-discovery-schema.js';
import { type Broker, publish, retainedMessages, startBroker } from '../support/mosquitto.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/ampio/house.yaml');
const COMMAND_ID = (0x0f000000 | 0x80000000) >>> 0;
const ext = (id: number) => (id | 0x80000000) >>> 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let broker: Broker;
let dir: string;
const bridges: BridgeChild[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  broker = await startBroker();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-mqtt-e2e-'));
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
});
afterAll(async () => {
  await broker?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of bridges.splice(0)) await b.stop();
});

async function bridge(args: string[]): Promise<BridgeChild> {
  const b = await BridgeChild.start({
    args: ['--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0', '--ampio-config', FIXTURE, '--mqtt-url', broker.url(), ...args],
    env: { AMPIO_BRIDGE_CONFIG: path.join(dir, 'none.json') },
  });
  bridges.push(b);
  return b;
}

async function client(b: BridgeChild): Promise<TestClient> {
  const c = await TestClient.connect(b.port('cannelloni'));
  clients.push(c);
  return c;
}

describe('serve with MQTT (built CLI, real mosquitto)', () => {
  it('scripted Ampio traffic → exact retained state; discovery passes the schema; a command reaches the bus; SIGKILL → offline', async () => {
    const b = await bridge(['--mqtt-prefix', 'e2e/home']);
    await b.waitFor((r) => r.event === 'mqtt_connected', 15_000, 'mqtt_connected');
    const player = await client(b);
    const watcher = await client(b);
    player.send(
      encode({ id: ext(0x1a1e), data: [0xfe, 0x4f, 0x7a, 0x7c] }), // 24.4 V, 24 °C
      encode({ id: ext(0x1a1e), data: [0xfe, 0x1b, 0x03, 0, 0, 0, 0, 0] }), // bin 1, 2 on
      encode({ id: ext(0x1a1e), data: [0xfe, 0x1e, 0x04, 0, 0, 0, 0, 0] }), // bout 3 on
      encode({ id: ext(0x19c7), data: [0xfe, 0x0c, 0, 128, 0, 0, 0, 0] }), // aout 2 = 128
      encode({ id: ext(6278), data: [0xfe, 0x06, 0xe7, 0x04] }), // temperature 1: (1255 − 1000) / 10 = 25.5 °C
    );
    const state = await until('state', async () => {
      const m = await retainedMessages(broker, 'e2e/home/#');
      return m.get('e2e/home/00001886/temperature/1') === '25.5' && m.get('e2e/home/000019c7/aout/2') === '128' ? m : null;
    });
    expect(state.get('e2e/home/availability')).toBe('online');
    expect(state.get('e2e/home/00001a1e/voltage')).toBe('24.4');
    expect(state.get('e2e/home/00001a1e/temperature')).toBe('24');
    expect(state.get('e2e/home/00001a1e/bin/1')).toBe('ON');
    expect(state.get('e2e/home/00001a1e/bin/2')).toBe('ON');
    expect(state.get('e2e/home/00001a1e/bin/3')).toBe('OFF');
    expect(state.get('e2e/home/00001a1e/bout/3')).toBe('ON');
    expect(state.get('e2e/home/00001a1e/online')).toBe('ON');
    // The bridge's own figures are read every 5 s.
    await until('bridge figures', async () => (await retainedMessages(broker, 'e2e/home/bridge/clients', 1)).get('e2e/home/bridge/clients') === '2', 15_000);

    const discovery = [...(await retainedMessages(broker, 'homeassistant/#'))].filter(([t]) => /\/ampio_/.test(t));
    const components = new Set(discovery.map(([t]) => t.split('/')[1]));
    expect([...components].sort()).toEqual(['binary_sensor', 'cover', 'light', 'sensor', 'switch']);
    expect(discovery.flatMap(([t, p]) => validateDiscovery(t, p))).toEqual([]);

    const before = watcher.frames.length;
    await publish(broker, 'e2e/home/set/00001a1e/switch3', 'OFF');
    const seen = await until('the command frame', () => watcher.frames.slice(before).find((f) => f.id === COMMAND_ID));
    expect(seen.data.toString('hex')).toBe('00001a1e150002');
    await sleep(300);
    expect(watcher.frames.slice(before).filter((f) => f.id === COMMAND_ID)).toHaveLength(1);
    const snap = await b.snapshot();
    expect(snap.mqtt).toMatchObject({ state: 'connected', listenOnly: false, commands: { received: 1, sent: 1 } });
    expect(snap.buses[0].txFrames).toBeGreaterThanOrEqual(1);

    process.kill(b.pid, 'SIGKILL');
    await until(
      'availability offline (last will)',
      async () => (await retainedMessages(broker, 'e2e/home/availability', 1)).get('e2e/home/availability') === 'offline',
      90_000,
    );
  });

  it('--tx-allow that leaves the broker out: no command topics, and a command puts nothing on the bus', async () => {
    const b = await bridge(['--mqtt-prefix', 'e2e/ro', '--tx-allow', '10.0.0.0/8']);
    await b.waitFor((r) => r.event === 'mqtt_connected', 15_000, 'mqtt_connected');
    const watcher = await client(b);
    const configs = await until('discovery', async () => {
      const m = await retainedMessages(broker, 'homeassistant/+/ampio_00001a1e/+/config', 1);
      return m.size > 3 ? m : null;
    });
    for (const p of configs.values()) expect(p).not.toMatch(/command_topic/);
    await publish(broker, 'e2e/ro/set/00001a1e/switch3', 'ON');
    await sleep(1000);
    expect(watcher.frames.filter((f) => f.id === COMMAND_ID)).toEqual([]);
    expect((await b.snapshot()).mqtt?.listenOnly).toBe(true);
  });

  it('the broker away for 30 s under 400 frames/s: clients lose nothing, the bridge reconnects and republishes the present state', async () => {
    const b = await bridge(['--mqtt-prefix', 'e2e/out']);
    await b.waitFor((r) => r.event === 'mqtt_connected', 15_000, 'mqtt_connected');
    const player = await client(b);
    const watcher = await client(b);
    let sent = 0;
    let value = 0;
    // 400 frames/s in 10 ms ticks of 4: an analog output that keeps changing, and diagnostics.
    const timer = setInterval(() => {
      for (let k = 0; k < 4; k++) {
        if (k === 3) player.send(encode({ id: ext(0x1a1e), data: [0xfe, 0x4f, 0x78, 0x7d] }));
        else {
          value = (value + 1) % 256;
          player.send(encode({ id: ext(0x19c7), data: [0xfe, 0x0c, 0, value, 0, 0, 0, 0] }));
        }
        sent++;
      }
    }, 10);
    try {
      await until('state flowing', async () => (await retainedMessages(broker, 'e2e/out/000019c7/aout/2', 1)).has('e2e/out/000019c7/aout/2'));
      await broker.stop();
      await b.waitFor((r) => r.event === 'mqtt_disconnected', 15_000, 'mqtt_disconnected');
      await sleep(30_000);
      await broker.start();
      await b.waitFor((r) => r.event === 'mqtt_connected' && r.reconnects === 1, 90_000, 'the reconnection');
    } finally {
      clearInterval(timer);
    }
    const last = value;
    const m = await until('the present state republished', async () => {
      const r = await retainedMessages(broker, 'e2e/out/#', 1);
      return r.get('e2e/out/000019c7/aout/2') === String(last) ? r : null;
    });
    expect(m.get('e2e/out/availability')).toBe('online');
    // Every frame the player sent reached the other client (echo to others), none dropped.
    await until('all frames at the watcher', () => watcher.frames.length >= sent, 20_000);
    expect(watcher.frames.length).toBe(sent);
    const snap = await b.snapshot();
    expect(snap.totals.hubDrops).toBe(0);
    expect(snap.mqtt?.state).toBe('connected');
    expect(snap.mqtt?.superseded).toBeGreaterThan(1000);
    expect(b.events('mqtt_disconnected')).toHaveLength(1);
    expect(b.events('mqtt_connected')).toHaveLength(2);
  }, 180_000);
});
