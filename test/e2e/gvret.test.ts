// GVRET end to end: the BUILT `ampio-bridge serve` (virtual backend, two buses at ~1,000
// frames/s each, sequence payload) with a SavvyCAN replay and a WireTAP-style client on its
// one GVRET port, for 10 s. Both must stay connected, receive every frame of both buses in
// order with the right bus numbers and the receive time as timestamp, and the frames they
// send must reach cannelloni clients on the right bus. (`npm test` builds first.)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeChild, CLI } from '../support/bridge-child.js';
import { TestClient } from '../support/cannelloni-client.js';
import { type SavvyFrame, SavvyCanClient } from '../support/savvycan-client.js';
import { type WireTapFrame, WireTapClient } from '../support/wiretap-client.js';

const RATE = 1000;
const RUN_MS = 10_000;

let bridge: BridgeChild;
let dir = '';
let savvy: SavvyCanClient;
let wiretap: WireTapClient;
let bus0: TestClient;
let bus1: TestClient;
let status: { clients: Array<Record<string, unknown>> } | null = null;
let metrics = '';
let savvyConnectedAfterRun = false;
let wiretapOpenAfterRun = false;

/** Per bus: sequence numbers in order, and every frame's bus nibble matching its id. */
function sequenceCheck(frames: Array<{ id: number; bus: number; data: Buffer }>, bus: number) {
  const mine = frames.filter((f) => f.id === 0x1000 + bus);
  const wrongBus = frames.filter((f) => f.id >= 0x1000 && f.id <= 0x1001 && f.id - 0x1000 !== f.bus).length;
  let gaps = 0;
  let disorder = 0;
  for (let k = 1; k < mine.length; k++) {
    const prev = mine[k - 1].data.readUInt32BE(0);
    const seq = mine[k].data.readUInt32BE(0);
    if (seq === prev + 1) continue;
    if (seq > prev) gaps += seq - prev - 1;
    else disorder++;
  }
  return { count: mine.length, gaps, disorder, wrongBus, allOnBus: mine.every((f) => f.bus === bus) };
}

/** The GVRET timestamp against the send time the virtual bus wrote into the payload (µs). */
function timestampSkewUs(frames: Array<{ id: number; data: Buffer; timestamp: number }>): number {
  let worst = 0;
  for (const f of frames) {
    if (f.id !== 0x1000 && f.id !== 0x1001) continue;
    const sent = f.data.readUInt32BE(4);
    const d = Math.abs(((f.timestamp - sent + 2 ** 31) >>> 0) - 2 ** 31);
    worst = Math.max(worst, d);
  }
  return worst;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-gvret-e2e-'));
  // An empty config file: a config in this user's config dir must not change the run.
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
  bridge = await BridgeChild.start({
    args: [
      '--backend',
      'virtual',
      '--can-if',
      'vcan0,vcan1',
      '--virtual-rate',
      String(RATE),
      '--virtual-payload',
      'sequence',
      '--listen',
      '127.0.0.1:0',
      '--gvret-listen',
      '127.0.0.1:0',
      '--metrics-addr',
      '127.0.0.1:0',
      '--config',
      path.join(dir, 'none.json'),
    ],
  });
  const ports = { can: [bridge.port('cannelloni', 0), bridge.port('cannelloni', 1)], gvret: bridge.port('gvret') };
  bus0 = await TestClient.connect(ports.can[0]);
  bus1 = await TestClient.connect(ports.can[1]);
  [savvy, wiretap] = await Promise.all([SavvyCanClient.connect(ports.gvret), WireTapClient.connect(ports.gvret)]);
  await savvy.waitConnected();
  const connectedAt = Date.now();
  await new Promise((r) => setTimeout(r, RUN_MS / 2));
  savvy.send({ id: 0x123, bus: 1, data: [1, 2, 3] });
  savvy.send({ id: 0x18daf110, extended: true, bus: 0, data: [0x55] });
  wiretap.send({ id: 0x321, bus: 0, data: [0xaa, 0xbb, 0xcc, 0xdd] });
  wiretap.send({ id: 0x1abcdef0, extended: true, bus: 1, data: [0xe7, 0xe7] });
  status = JSON.parse(execFileSync(process.execPath, [CLI, 'status', '--json', '--control-socket', bridge.controlSocket], { encoding: 'utf8' }));
  await new Promise((r) => setTimeout(r, Math.max(0, connectedAt + RUN_MS - Date.now())));
  const metricsAddr = String(bridge.events('metrics_listen')[0]?.addr);
  metrics = await (await fetch(`http://${metricsAddr}/metrics`)).text();
  savvyConnectedAfterRun = savvy.status === 'connected';
  wiretapOpenAfterRun = !wiretap.closed;
  // Let the last batches arrive before judging order and completeness.
  await new Promise((r) => setTimeout(r, 200));
}, 60_000);

afterAll(async () => {
  savvy?.close();
  wiretap?.close();
  bus0?.destroy();
  bus1?.destroy();
  await bridge?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('GVRET against the built serve, two buses at 1,000 frames/s each, 10 s', () => {
  it('the SavvyCAN replay reaches CONNECTED and stays connected: every keepalive answered in time', () => {
    expect(savvyConnectedAfterRun, `SavvyCAN client ${savvy.status}: ${savvy.disconnectReason}`).toBe(true);
    expect(savvy.numBuses).toBe(2);
    expect(savvy.keepalivesSent).toBeGreaterThan(10);
    // Each tick counts down from 10 and a reply resets it: never more than one tick without one.
    expect(savvy.minCounter).toBeGreaterThanOrEqual(8);
    expect(savvy.keepaliveReplies).toBeGreaterThanOrEqual(savvy.keepalivesSent - 2);
    expect(savvy.stuckAt).toBeNull();
  });

  it('SavvyCAN receives every frame of both buses in order, with the bus numbers and receive times right', () => {
    for (const bus of [0, 1]) {
      const c = sequenceCheck(savvy.frames as Array<SavvyFrame & { data: Buffer }>, bus);
      expect(c.count).toBeGreaterThan(RATE * 5);
      expect(c).toMatchObject({ gaps: 0, disorder: 0, wrongBus: 0, allOnBus: true });
    }
    expect(timestampSkewUs(savvy.frames)).toBeLessThanOrEqual(1);
    // F1 01 answered from the same clock as the frame timestamps.
    const first = savvy.frames[0].timestamp;
    expect(Math.abs(((first - savvy.timeBasis! + 2 ** 31) >>> 0) - 2 ** 31)).toBeLessThan(5_000_000);
  });

  it('the WireTAP-style client (no keepalives) stays connected and receives every frame of both buses in order', () => {
    expect(wiretapOpenAfterRun).toBe(true);
    expect(wiretap.replies.get(0x07)).toBe(1);
    for (const bus of [0, 1]) {
      const c = sequenceCheck(wiretap.frames as Array<WireTapFrame>, bus);
      expect(c.count).toBeGreaterThan(RATE * 8);
      expect(c).toMatchObject({ gaps: 0, disorder: 0, wrongBus: 0, allOnBus: true });
    }
    expect(timestampSkewUs(wiretap.frames)).toBeLessThanOrEqual(1);
    expect(wiretap.unknownCommands).toBe(0);
  });

  it('frames both clients send reach cannelloni clients on the right bus, and each other', () => {
    const ids = (c: TestClient) => c.frames.map((f) => f.id >>> 0);
    expect(ids(bus1)).toContain(0x123);
    expect(ids(bus0)).toContain((0x80000000 | 0x18daf110) >>> 0);
    expect(ids(bus0)).toContain(0x321);
    expect(ids(bus1)).toContain((0x80000000 | 0x1abcdef0) >>> 0);
    expect(ids(bus0)).not.toContain(0x123);
    expect(ids(bus1)).not.toContain(0x321);
    expect(bus1.frames.find((f) => f.id >>> 0 === (0x80000000 | 0x1abcdef0) >>> 0)?.data).toEqual(Buffer.from([0xe7, 0xe7]));
    expect(wiretap.frames.find((f) => f.id === 0x123)?.bus).toBe(1);
    expect(savvy.frames.find((f) => f.id === 0x321)?.bus).toBe(0);
  });

  it('both sessions are clients of the daemon with protocol gvret: in status, the metrics and the log', () => {
    expect(status?.clients.length).toBe(4);
    // A GVRET session serves both buses.
    expect(status?.clients.filter((c) => c.protocol === 'gvret').map((c) => c.bus)).toEqual(['vcan0,vcan1', 'vcan0,vcan1']);
    expect(metrics).toMatch(/^hub_active_clients\{protocol="gvret"\} 2$/m);
    expect(metrics).toMatch(/^tcp_rx_frames_total\{protocol="gvret"\} 4$/m);
    const connected = bridge.events('client_connected');
    expect(connected.filter((r) => r.protocol === 'gvret')).toHaveLength(2);
    expect(bridge.records.find((r) => r.event === 'gvret_client_identified' && r.client === 'savvycan')).toBeDefined();
    expect(bridge.records.find((r) => r.event === 'gvret_client_identified' && r.client === 'wiretap')).toBeDefined();
  });
});
