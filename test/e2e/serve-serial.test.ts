// `ampio-bridge serve --backend serial` (the built CLI) against a REAL pseudo-terminal with
// the Ampio adapter emulator behind it, spec-written cannelloni clients in front, and the
// control socket for counters. `npm test` builds first; alone it needs `npm run build`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusSnapshot } from '../../src/control/protocol.js';
import { AdapterEmulator, parseHostBytes, sleep } from '../support/ampio-adapter.js';
import { BridgeChild } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';

let dir: string;
let emu: AdapterEmulator | null = null;
let serve: BridgeChild | null = null;
const clients: TestClient[] = [];

/** The built serve on the adapter at `devPath`, with an empty config file (nothing of this user's applies). */
function startServe(devPath: string): Promise<BridgeChild> {
  const emptyConfig = path.join(dir, 'empty.json');
  fs.writeFileSync(emptyConfig, '{}\n');
  return BridgeChild.start({
    args: ['--backend', 'serial', '--serial', devPath, '--listen', '127.0.0.1:0', '--tx-max-age', '2s', '--log-level', 'debug'],
    env: { AMPIO_BRIDGE_CONFIG: emptyConfig },
  });
}

/** Resolves once serve logged `event`. */
function logged(event: string, timeoutMs = 10_000): Promise<unknown> {
  return serve!.waitFor((r) => r.event === event, timeoutMs, event);
}

/** Bus 0 as the control socket shows it. */
async function bus(): Promise<BusSnapshot> {
  return (await serve!.snapshot()).buses[0];
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-e2e-serial-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (serve) expect(await serve.stop()).toBe(0);
  serve = null;
  await emu?.close();
  emu = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function connect(port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  clients.push(c);
  return c;
}

describe('ampio-bridge serve --backend serial (built) on a PTY', () => {
  it('carries frames both ways, byte for byte on the adapter side, and survives unplug/replug with clients connected', async () => {
    const dev = path.join(dir, 'usb-Ampio_CAN-if00');
    emu = await AdapterEmulator.start(dev);
    serve = await startServe(dev);
    await logged('serial_open');
    const port = serve.port('cannelloni');
    const a = await connect(port);
    const b = await connect(port);

    // adapter → every client (RX vectors: 8-byte, 2-byte and 0-byte frames back to back)
    await emu.sendRaw(Buffer.from('2dd40d00001e5a347b70d794100df750' + '2dd40700123456' + '9abc26' + '2dd40500000002' + '34', 'hex'));
    await a.waitForFrames(3);
    await b.waitForFrames(3);
    const rx = a.frames.map((f) => [f.id >>> 0, f.data.toString('hex')]);
    expect(rx).toEqual([
      [0x80001e5a, '347b70d794100df7'],
      [0x80123456, '9abc'],
      [0x80000002, ''],
    ]);
    expect(b.frames.map((f) => [f.id >>> 0, f.data.toString('hex')])).toEqual(rx);

    // client → adapter: exact TX bytes; the other client sees it (echo), the sender does not;
    // RTR and FD cannot be sent by the adapter: dropped and counted, the client stays.
    a.send(
      encode({ id: 0x80000123, data: [0xaa, 0xbb] }),
      encode({ id: 0x123, rtr: true, len: 2 }),
      encode({ id: 0x124, fd: true, flags: 1, data: new Array(12).fill(1) }),
      encode({ id: 0x123, data: [1, 2, 3] }),
    );
    await emu.waitForBytes(12 + 13);
    expect(emu.received.toString('hex')).toBe('2dd409028200000123aabb43' + '2dd40a028300000123010203e6');
    await b.waitForFrames(5);
    expect(b.frames.slice(3).map((f) => f.id >>> 0)).toEqual([0x80000123, 0x123]);
    expect(a.frames).toHaveLength(3);
    const s1 = await bus();
    expect(s1.txDrops).toMatchObject({ unsupported: 1, fd_unsupported: 1 });
    expect(s1.backendState).toBe('open');

    // unplug: state absent, clients stay, their frames are dropped as link_down (not kept)
    const tUnplug = performance.now();
    await emu.unplug();
    await logged('backend_absent');
    const detectMs = performance.now() - tUnplug;
    a.send(encode({ id: 0x80000777, data: [7] }));
    await sleep(300);
    expect((await bus()).txDrops.link_down).toBe(1);
    expect(a.closed || b.closed).toBe(false);

    // replug at the same path (new PTY): reopened within 2 s, frames flow both ways again
    const tPlug = performance.now();
    await emu.plug();
    await logged('backend_reopened', 2000);
    const reopenMs = performance.now() - tPlug;
    const sentBefore = emu.received.length;
    await emu.sendFrame(0x1e5b, [0x42]);
    await a.waitForFrames(4);
    expect(a.frames[3].id >>> 0).toBe(0x80001e5b);
    a.send(encode({ id: 0x80000002, data: [] }));
    await emu.waitForBytes(sentBefore + 10);
    // only the new frame: the one sent while unplugged was not replayed
    expect(parseHostBytes(emu.received.subarray(sentBefore))).toEqual([{ id: 2, data: [], raw: '2dd4070280000000' + '02b8' }]);
    const s2 = await bus();
    expect(s2.reopens).toBe(1);
    expect(a.closed || b.closed).toBe(false);
    process.stderr.write(`[serve-serial] unplug → backend_absent ${detectMs.toFixed(0)} ms; replug → backend_reopened ${reopenMs.toFixed(0)} ms\n`);
  });

  it('starts without the adapter (serving TCP, state absent) and opens it when it is plugged in', async () => {
    const dev = path.join(dir, 'usb-Ampio_CAN-if00');
    emu = await AdapterEmulator.start(dev, { plugged: false });
    serve = await startServe(dev);
    const port = serve.port('cannelloni');
    const a = await connect(port);
    expect((await bus()).backendState).toBe('absent');
    const tPlug = performance.now();
    await emu.plug();
    await logged('serial_open', 2000);
    const openMs = performance.now() - tPlug;
    await emu.sendFrame(0x77, [1, 2]);
    await a.waitForFrames(1);
    expect(a.frames[0].id >>> 0).toBe(0x80000077);
    process.stderr.write(`[serve-serial] absent at start; plug → serial_open ${openMs.toFixed(0)} ms\n`);
  });
});
