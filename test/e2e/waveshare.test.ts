// The Waveshare listener with the real client Home Assistant's Ampio integration uses:
// can-waveshare's WaveShareBus (kstaniek/python-can-waveshare-eth) on Debian's python-can 4.1
// (/usr/bin/python3), against the BUILT `serve` (virtual backend, two buses), with a
// cannelloni client written from the spec on the other side of each bus.
//
// The client is not in this repository: check it out anywhere and point CAN_WAVESHARE_SRC at
// the directory holding can_waveshare/, e.g.
//   git clone https://github.com/kstaniek/python-can-waveshare-eth /tmp/peers/can-waveshare
//   CAN_WAVESHARE_SRC=/tmp/peers/can-waveshare npx vitest run test/e2e/waveshare.test.ts
// Without it these tests are skipped ("skipped: set CAN_WAVESHARE_SRC"). The spec-written
// client (test/src/protocols/waveshare/) runs always. `npm test` builds first; alone:
// `npm run build` before running this file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeChild } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(root, 'dist', 'src', 'cli', 'main.js');
const pyClient = path.join(root, 'test', 'support', 'python-can-waveshare.py');
const src = process.env.CAN_WAVESHARE_SRC ?? '';

interface PyEvent {
  ev: 'connected' | 'sent' | 'rx' | 'done';
  id?: number;
  ext?: boolean;
  rtr?: boolean;
  dlc?: number;
  data?: string;
  count?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pythonWaveshare(port: number, args: string[], onEvent?: (e: PyEvent) => void): Promise<{ events: PyEvent[]; stderr: string; exitCode: number }> {
  const child = execa('/usr/bin/python3', [pyClient, '127.0.0.1', String(port), ...args], {
    reject: false,
    timeout: 30_000,
    buffer: { stdout: false },
    env: { CAN_WAVESHARE_SRC: src },
  });
  const events: PyEvent[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const e = JSON.parse(pending.slice(0, nl)) as PyEvent;
      pending = pending.slice(nl + 1);
      events.push(e);
      onEvent?.(e);
    }
  });
  const r = await child;
  return { events, stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

describe.skipIf(src === '')(src === '' ? 'can-waveshare (skipped: set CAN_WAVESHARE_SRC)' : 'can-waveshare on python-can 4.1 through the built serve', () => {
  let bridge: BridgeChild;
  let dir: string;
  let cannelloni: number[];
  let waveshare: number[];

  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    if (!fs.existsSync(path.join(src, 'can_waveshare', 'bus.py')))
      throw new Error(`CAN_WAVESHARE_SRC=${src} holds no can_waveshare/bus.py: point it at a checkout of kstaniek/python-can-waveshare-eth`);
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import can'], { stdio: 'pipe' });
    } catch {
      throw new Error('python3-can is missing: apt-get install -y python3-can');
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-ws-'));
    fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
    bridge = await BridgeChild.start({
      args: [
        '--backend',
        'virtual',
        '--virtual-rate',
        '0',
        '--can-if',
        'can0,can1',
        '--listen',
        '127.0.0.1:0',
        '--waveshare-listen',
        '127.0.0.1:0',
        '--config',
        path.join(dir, 'none.json'),
      ],
    });
    cannelloni = [bridge.port('cannelloni', 0), bridge.port('cannelloni', 1)];
    waveshare = [bridge.port('waveshare', 0), bridge.port('waveshare', 1)];
  }, 30_000);

  afterAll(async () => {
    await bridge?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const bus of [0, 1]) {
    it(`bus ${bus}: receives an unpaced burst of 300 frames from a cannelloni client (SFF, EFF, RTR, empty), whole and in order`, async () => {
      const cnl = await TestClient.connect(cannelloni[bus]);
      const sent = Array.from({ length: 300 }, (_, k) => {
        const ext = k % 3 === 1;
        const rtr = k % 7 === 3;
        const data = rtr ? [] : [k & 0xff, k >> 8, bus, 0xa5, 1, 2, 3, 4].slice(0, k % 9);
        return { id: ext ? 0x1abc0000 + k : 0x100 + (k % 0x600), ext, rtr, dlc: rtr ? k % 9 : data.length, data };
      });
      const run = pythonWaveshare(waveshare[bus], ['--recv', String(sent.length), '--timeout', '15'], (e) => {
        if (e.ev === 'connected')
          setTimeout(() => cnl.send(...sent.map((f) => encode({ id: f.ext ? (f.id | 0x80000000) >>> 0 : f.id, data: f.data, rtr: f.rtr, len: f.dlc }))), 100);
      });
      const { events, exitCode, stderr } = await run;
      cnl.destroy();
      expect(exitCode, stderr).toBe(0);
      const rx = events.filter((e) => e.ev === 'rx');
      expect(rx.map((e) => ({ id: e.id, ext: e.ext, rtr: e.rtr, dlc: e.dlc, data: e.data }))).toEqual(
        sent.map((f) => ({ id: f.id, ext: f.ext, rtr: f.rtr, dlc: f.dlc, data: Buffer.from(f.data).toString('hex') })),
      );
    });

    it(`bus ${bus}: sends SFF, EFF and RTR frames that a cannelloni client on that bus sees`, async () => {
      const cnl = await TestClient.connect(cannelloni[bus]);
      await sleep(50);
      const { exitCode, stderr } = await pythonWaveshare(waveshare[bus], [
        '--send',
        '123#010aff',
        '--send',
        '1ABCDEF0#0001020304050607',
        '--send',
        '456#',
        '--send',
        '7FF#R3',
        '--send',
        '00000042#R0',
      ]);
      expect(exitCode, stderr).toBe(0);
      const frames = await cnl.waitForFrames(5);
      cnl.destroy();
      expect(frames.map((f) => ({ id: f.id >>> 0, len: f.len, data: f.data.toString('hex') }))).toEqual([
        { id: 0x123, len: 3, data: '010aff' },
        { id: (0x1abcdef0 | 0x80000000) >>> 0, len: 8, data: '0001020304050607' },
        { id: 0x456, len: 0, data: '' },
        { id: (0x7ff | 0x40000000) >>> 0, len: 3, data: '' },
        { id: (0x42 | 0x80000000 | 0x40000000) >>> 0, len: 0, data: '' },
      ]);
    });
  }

  it('frames stay on their bus: a client of bus 1 never sees bus 0', async () => {
    const c0 = await TestClient.connect(cannelloni[0]);
    const c1 = await TestClient.connect(cannelloni[1]);
    const run = pythonWaveshare(waveshare[1], ['--recv', '2', '--timeout', '5'], (e) => {
      if (e.ev !== 'connected') return;
      void (async () => {
        await sleep(100);
        c0.send(encode({ id: 0x10, data: [0] }));
        c1.send(encode({ id: 0x11, data: [1] }));
        c1.send(encode({ id: 0x12, data: [2] }));
      })();
    });
    const { events, exitCode, stderr } = await run;
    c0.destroy();
    c1.destroy();
    expect(exitCode, stderr).toBe(0);
    expect(events.filter((e) => e.ev === 'rx').map((e) => e.id)).toEqual([0x11, 0x12]);
    const snap = await bridge.snapshot();
    expect(snap.totals.malformed).toBe(0);
  });
});
