// The built CLI against a running bridge (virtual buses): `capture live` as a candump tail
// and as PCAPNG read by `tshark -i -` for 3 s, the Wireshark extcap installed into a
// temporary personal extcap folder (listed by `tshark -D`, captured by `tshark -i`, locally
// and through the SSH launcher with a stand-in `ssh` that runs the command here), and
// `capture replay` onto a bus through the bridge: spacing at 1x (p99 reported), all frames
// in order at max, none past a --tx-allow that forbids it (all counted).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSqlite } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { makeFrame } from '../../src/core/frame.js';
import { prng } from '../../src/core/prng.js';
import { ControlClient } from '../../src/control/control-client.js';
import type { FramesMessage } from '../../src/control/protocol.js';
import { BridgeChild, CLI, REPO } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';
import { requireHostTools } from '../support/host-tools.js';

const run = promisify(execFile);
let dir: string;
let bridge: BridgeChild;

/** A host tool the test runs as a real part (fails naming the Debian package when missing). */
function tool(name: string): string {
  requireHostTools(name);
  return name;
}

/** The CLI's environment: none of the machine's AMPIO_BRIDGE_* settings, this bridge's control socket. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AMPIO_BRIDGE_')) e[k] = v;
  return { ...e, AMPIO_BRIDGE_CONTROL_SOCKET: bridge.controlSocket, ...extra };
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-live-replay-'));
  bridge = await BridgeChild.start({ args: ['--backend', 'virtual', '--can-if', 'can0,can1', '--virtual-rate', '100', '--listen', '127.0.0.1:0'] });
}, 30_000);
afterAll(async () => {
  await bridge?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('capture live', () => {
  it("candump tail of one bus: received frames marked R, a client's frames marked T", async () => {
    const client = await TestClient.connect(bridge.port('cannelloni', 1));
    const live = run(process.execPath, [CLI, 'capture', 'live', '--bus', 'can1', '--count', '60'], { env: env(), timeout: 30_000 });
    const sender = setInterval(() => client.send(encode({ id: 0x123, data: [1, 2] })), 20);
    const { stdout, stderr } = await live.finally(() => clearInterval(sender));
    client.destroy();
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(60);
    expect(stderr).toMatch(/^60 frames\n/);
    for (const l of lines) expect(l).toMatch(/^\(\d{10}\.\d{6}\) can1 [0-9A-F]{3,8}#[0-9A-F]* [RT]$/);
    expect(lines.some((l) => / can1 123#0102 T$/.test(l))).toBe(true);
    expect(lines.some((l) => / R$/.test(l))).toBe(true);
  }, 40_000);

  it('PCAPNG into tshark -i - for 3 s: frames of both buses, named, inbound', async () => {
    const tshark = tool('tshark');
    const { stdout } = await run(
      'sh',
      [
        '-c',
        `'${process.execPath}' '${CLI}' capture live --format pcapng | '${tshark}' -i - -a duration:3 -T fields -e frame.interface_name -e can.id -e frame.packet_flags_direction`,
      ],
      { env: env({ HOME: dir }), timeout: 30_000 },
    );
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(20); // 100 frames/s per bus for 3 s
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['can0', 'can1']));
    for (const r of rows) expect(Number(r[2])).toBe(1);
  }, 40_000);

  it('a reader that stops reading: its frames are dropped and counted, the bridge and the connection carry on', async () => {
    const busy = await BridgeChild.start({ args: ['--backend', 'virtual', '--can-if', 'can0', '--virtual-rate', '20000', '--listen', '127.0.0.1:0'] });
    try {
      const c = await ControlClient.connect(busy.controlSocket, { timeoutMs: 5000 });
      const got: FramesMessage[] = [];
      c.on('frames', (m: FramesMessage) => got.push(m));
      expect(await c.frames({})).toEqual({ buses: ['can0'] });
      c.pause();
      await new Promise((r) => setTimeout(r, 3000));
      const before = (await busy.snapshot()).buses[0].rxFrames;
      c.resume();
      const deadline = Date.now() + 10_000;
      while (!(got.at(-1)?.dropped ?? 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const dropped = got.at(-1)?.dropped ?? 0;
      const delivered = got.reduce((n, m) => n + m.frames.length, 0);
      expect(dropped).toBeGreaterThan(0);
      expect(c.isClosed).toBe(false);
      // The bus went on while this reader stalled; what it did not get is counted, not queued.
      expect((await busy.snapshot()).buses[0].rxFrames).toBeGreaterThan(before);
      expect(delivered + dropped).toBeLessThanOrEqual((await busy.snapshot()).buses[0].rxFrames);
      c.close();
    } finally {
      await busy.stop();
    }
  }, 60_000);
});

describe('Wireshark extcap', () => {
  function installInto(home: string, ...args: string[]): void {
    fs.mkdirSync(home, { recursive: true });
    execFileSync(process.execPath, [CLI, 'extcap', '--install', ...args], { env: env({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') }) });
    expect(fs.statSync(path.join(home, '.config/wireshark/extcap/ampio-bridge')).mode & 0o111).not.toBe(0);
  }

  async function listAndCapture(home: string, extraPath = ''): Promise<void> {
    const e = env({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), PATH: `${extraPath}${process.env.PATH}` });
    const list = (await run(tool('tshark'), ['-D'], { env: e, timeout: 30_000 })).stdout;
    for (const name of ['ampio-all', 'ampio-can0', 'ampio-can1']) expect(list).toMatch(new RegExp(`\\d+\\. ${name} \\(Ampio CAN bridge`));
    const { stdout } = await run(tool('tshark'), ['-i', 'ampio-can1', '-a', 'duration:3', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'can.id'], {
      env: e,
      timeout: 30_000,
    });
    const rows = stdout.trim().split('\n');
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) expect(r).toMatch(/^can1\t\d+$/);
  }

  it('installed into the personal extcap folder: tshark -D lists the buses, tshark -i captures one', async () => {
    const home = path.join(dir, 'home-local');
    installInto(home);
    await listAndCapture(home);
  }, 60_000);

  it('the SSH launcher (a stand-in ssh that runs the remote command here): the same', async () => {
    const home = path.join(dir, 'home-ssh');
    installInto(home, '--ssh', 'pi@bridge.invalid');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    // ssh's last argument is the remote command line; run it with a local `ampio-bridge`.
    fs.writeFileSync(path.join(bin, 'ssh'), '#!/bin/sh\nfor a; do last=$a; done\nexec sh -c "$last"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'ampio-bridge'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
    await listAndCapture(home, `${bin}:`);
  }, 60_000);
});

describe('capture replay', () => {
  const N = 1000;
  let db: string;
  let T0: number;
  let spacingUs: number[];

  beforeAll(async () => {
    db = path.join(dir, 'replay.db');
    T0 = Date.now() - 3_600_000;
    const s = CaptureStore.open(await loadSqlite(), { path: db, now: () => T0 });
    const rand = prng(26);
    spacingUs = [];
    let t = T0 * 1000;
    const records = [];
    for (let i = 0; i < N; i++) {
      records.push({
        bus: 0,
        direction: 0,
        frame: makeFrame({ id: 0x1d000000 + i, extended: true, data: [i >> 8, i & 255], timestamp: t / 1000 }),
        session: 0,
        label: null,
      });
      const gap = 1000 + Math.floor(rand() * 7000); // 1 … 8 ms, as recorded
      spacingUs.push(gap);
      t += gap;
    }
    s.append(records, { 0: 'can0' });
    s.close();
  });

  async function replayInto(target: BridgeChild, speed: string): Promise<{ arrivals: Array<{ i: number; at: number }>; code: number; stderr: string }> {
    const receiver = await TestClient.connect(target.port('cannelloni', 0));
    const arrivals: Array<{ i: number; at: number }> = [];
    let seen = 0;
    receiver.socket.on('data', () => {
      const at = performance.now();
      for (; seen < receiver.frames.length; seen++) {
        const f = receiver.frames[seen];
        if ((f.id & 0x1fffffff) >= 0x1d000000) arrivals.push({ i: (f.data[0] << 8) | f.data[1], at });
      }
    });
    const args = [
      CLI,
      'capture',
      'replay',
      '--capture',
      db,
      '--since',
      String((T0 - 1000) / 1000),
      '--to-bus',
      speed === 'max' ? '0' : 'can0',
      '--speed',
      speed,
    ];
    const r = await run(process.execPath, args, { env: { ...env(), AMPIO_BRIDGE_CONTROL_SOCKET: target.controlSocket }, timeout: 60_000 }).then(
      (x) => ({ code: 0, stderr: x.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    await receiver.until(() => arrivals.length >= N, r.code === 0 ? 10_000 : 500, 'the replayed frames').catch(() => {});
    receiver.destroy();
    return { arrivals, ...r };
  }

  it('at 1x: all frames, in order, with the recorded spacing (p99 reported)', async () => {
    // --flush-interval 0: the bridge writes each frame at once, so the spacing seen is the replay's, not the batching's.
    const quiet = await BridgeChild.start({
      args: ['--backend', 'virtual', '--can-if', 'can0', '--virtual-rate', '0', '--flush-interval', '0', '--listen', '127.0.0.1:0'],
    });
    try {
      const { arrivals, code, stderr } = await replayInto(quiet, '1');
      expect(code).toBe(0);
      expect(stderr).toMatch(/commands in these frames run again/);
      expect(stderr).toMatch(new RegExp(`${N} frames replayed onto can0; the bridge took ${N} and its TX guard refused 0`));
      expect(arrivals.map((a) => a.i)).toEqual(Array.from({ length: N }, (_, i) => i));
      const errors = arrivals
        .slice(1)
        .map((a, k) => Math.abs(a.at - arrivals[k].at - spacingUs[k] / 1000))
        .sort((a, b) => a - b);
      const p99 = errors[Math.floor(errors.length * 0.99)];
      const p50 = errors[Math.floor(errors.length * 0.5)];
      console.log(`replay at 1x: spacing error p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${errors.at(-1)!.toFixed(3)} ms over ${N} frames`);
      // The target is 2 ms p99 (printed above, in BENCHMARKS.md): a loaded machine stretches the
      // tail, so the test holds what load cannot fake. The spacing is kept, not squeezed (a replay
      // that ignored it would take a fraction of the recorded span), and the typical gap is right.
      const recordedMs = spacingUs.slice(0, N - 1).reduce((a, b) => a + b, 0) / 1000;
      expect(arrivals[N - 1].at - arrivals[0].at).toBeGreaterThan(recordedMs * 0.9);
      expect(p50).toBeLessThan(10);
    } finally {
      await quiet.stop();
    }
  }, 90_000);

  it('at max: all frames, in order', async () => {
    const quiet = await BridgeChild.start({ args: ['--backend', 'virtual', '--can-if', 'can0', '--virtual-rate', '0', '--listen', '127.0.0.1:0'] });
    try {
      const { arrivals, code } = await replayInto(quiet, 'max');
      expect(code).toBe(0);
      expect(arrivals.map((a) => a.i)).toEqual(Array.from({ length: N }, (_, i) => i));
    } finally {
      await quiet.stop();
    }
  }, 90_000);

  it('forbidden by --tx-allow: none reach the bus, all counted as refused', async () => {
    const strict = await BridgeChild.start({
      args: ['--backend', 'virtual', '--can-if', 'can0', '--virtual-rate', '0', '--listen', '127.0.0.1:0', '--tx-allow', '10.0.0.0/8'],
    });
    try {
      const { arrivals, code, stderr } = await replayInto(strict, 'max');
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`${N} frames replayed onto can0; the bridge took 0 and its TX guard refused ${N} \\(read_only: ${N}\\)`));
      expect(stderr).toMatch(/outside the bridge's --tx-allow/);
      expect(arrivals).toHaveLength(0);
      const snap = await strict.snapshot();
      expect(snap.buses[0].txFrames).toBe(0);
    } finally {
      await strict.stop();
    }
  }, 90_000);

  it('--to stdout: the window as a candump log, nothing sent', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [CLI, 'capture', 'replay', '--capture', db, '--since', String((T0 - 1000) / 1000), '--limit', '5', '--to', 'stdout', '--speed', 'max'],
      { env: env(), cwd: REPO },
    );
    expect(stdout.trim().split('\n')).toEqual(
      Array.from({ length: 5 }, (_, i) =>
        expect.stringMatching(
          new RegExp(`^\\(\\d+\\.\\d{6}\\) can0 ${(0x1d000000 + i).toString(16).toUpperCase()}#00${i.toString(16).toUpperCase().padStart(2, '0')} R$`),
        ),
      ),
    );
    expect(stderr).toMatch(/dry run: 5 frames; nothing was sent/);
  });
});
