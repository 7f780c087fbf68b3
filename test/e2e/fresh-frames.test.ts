// Fresh frames for slow clients (--client-max-lag) and shell listeners, against the
// built daemon as its own process (so the test's reading does not steal its event loop).
//
// A stalled reader: after it resumes, the frames it receives first are the ones that were
// already on their way when it stopped — in its own kernel's receive buffer and in the
// bridge's kernel send queue — which no server can take back. The test measures both from
// /proc at the moment it resumes, and checks that (a) the bridge's part is small (it stops
// writing once the oldest unacknowledged frame is half the lag old) and (b) every frame after
// them is at most --client-max-lag old.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/control-client.js';
import { BridgeChild, REPO } from '../support/bridge-child.js';
import { sleep } from '../support/hostile-clients.js';
import { until } from '../support/until.js';
import { requireHostTools } from '../support/host-tools.js';

const LAG = 2000;
/** Delivery after the write, and the reader being scheduled late on a shared CI machine. */
const SLACK_MS = 500;
const FRAME = 13;
const STALLED_READER = path.join(REPO, 'test/support/stalled-reader.py');

const bridges: BridgeChild[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});

async function bridge(rate: number, extra: string[] = []): Promise<BridgeChild> {
  const b = await BridgeChild.start({
    args: [
      '--backend',
      'virtual',
      '--virtual-payload',
      'sequence',
      '--virtual-rate',
      String(rate),
      '--listen',
      '127.0.0.1:0',
      '--client-max-lag',
      `${LAG}ms`,
      ...extra,
    ],
  });
  bridges.push(b);
  return b;
}

interface StalledRun {
  frames: Array<[number, number]>;
  in_flight: { client_rx: number; bridge_tx: number; pending_bytes: number };
  rcvbuf: number;
}

/** Runs the Python stalled reader (a small SO_RCVBUF keeps its own kernel's share small). */
function stalledReader(port: number, readS: number, stallS: number, resumeS: number): Promise<StalledRun> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [STALLED_READER, String(port), String(readS), String(stallS), String(resumeS), '4096'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as StalledRun) : reject(new Error(`stalled-reader.py exited ${code}: ${err}`))));
  });
}

describe('--client-max-lag: a stalled reader', () => {
  for (const rate of [20_000, 250]) {
    it(`at ${rate} frames/s: after it resumes, every frame past what was already in flight is at most the lag old`, async () => {
      const b = await bridge(rate);
      const port = b.port('cannelloni');
      const run = await stalledReader(port, 0.5, 6, 2.5);
      const after = run.frames;
      expect(after.length).toBeGreaterThan(0);
      const inFlightBytes = run.in_flight.client_rx + run.in_flight.bridge_tx + run.in_flight.pending_bytes;
      const inFlight = Math.ceil(inFlightBytes / FRAME) + 1;
      const fresh = after.slice(inFlight);
      expect(fresh.length).toBeGreaterThan(0);
      const oldestFresh = Math.max(...fresh.map((f) => f[1]));
      const oldestInFlight = Math.max(...after.slice(0, inFlight).map((f) => f[1]));
      // The bridge stops writing once its oldest unacknowledged frame is half the lag old and
      // nothing is acknowledged (measured every 250 ms, up to every 2 s where reading /proc is
      // slow): what it still holds is bounded by that much of the stream.
      const bridgeBound = rate * FRAME * ((LAG / 2 + 2000 + 100) / 1000) * 1.5 + 64 * FRAME;
      // The reader has gone: its disconnect line carries what was dropped for it as stale.
      const gone = await b.waitFor((r) => r.event === 'client_disconnected', 5000, 'the disconnect');
      const stale = Number(gone.stale_drops ?? 0);
      const queueFull = Number(gone.drops ?? 0);
      console.log(
        `stalled reader at ${rate}/s (SO_RCVBUF ${run.rcvbuf}): in flight at resume ${run.in_flight.client_rx} B in its kernel + ${run.in_flight.bridge_tx} B in the bridge's; ` +
          `${after.length} frames after resume; the in-flight ones up to ${oldestInFlight.toFixed(0)} ms old, every later one at most ${oldestFresh.toFixed(0)} ms; stale drops ${stale}, queue-full drops ${queueFull}`,
      );
      expect(run.in_flight.bridge_tx).toBeLessThanOrEqual(bridgeBound);
      expect(oldestFresh).toBeLessThanOrEqual(LAG + SLACK_MS);
      // Frames were given up for it. At 250 frames/s the hub's 512-frame queue fills (2.05 s)
      // about when its oldest frame reaches the lag (2 s), so either rule may be the one that
      // drops (CI saw 0 stale drops once, the rest then dropped as queue-full).
      expect(stale + queueFull).toBeGreaterThan(0);
      if (rate === 20_000) expect(stale).toBeGreaterThan(0);
      // Sequence numbers only go forward (dropped frames leave gaps, nothing is replayed).
      for (let i = 1; i < after.length; i++) expect(after[i][0]).toBeGreaterThan(after[i - 1][0]);
    }, 30_000);
  }

  it('with --hub-policy kick it is closed once it falls behind by more than the lag', async () => {
    const b = await bridge(250, ['--hub-policy', 'kick']);
    const t0 = Date.now();
    const reader = stalledReader(b.port('cannelloni'), 0.3, 6.5, 0);
    const kicked = await b.waitFor((r) => r.event === 'client_kicked', 9000, 'the kick');
    const after = Date.now() - t0;
    expect(['stale', 'slow']).toContain(kicked.reason);
    console.log(
      `kick: closed ${after} ms after connecting (read 300 ms, then stalled), reason ${String(kicked.reason)}, behind ${String(kicked.behind_ms)} ms`,
    );
    // The bridge sees a client fall behind only once the client's own (8 KiB ≈ 2.5 s at this
    // rate) receive buffer is full; from then on, the kick comes as soon as its lag passes.
    if (kicked.reason === 'stale') expect(Number(kicked.behind_ms)).toBeGreaterThanOrEqual(LAG);
    expect(after).toBeLessThan(300 + 2500 + LAG + 2000 + 3000);
    await reader.catch(() => {});
  }, 20_000);
});

describe("the README's quick looks from a shell", () => {
  // A FIN ends a session (a closed client cannot be told from a half-closed listener on a
  // quiet bus), so a shell listener must keep its sending side open.
  const listeners: Array<[string, string]> = [
    ['nc (OpenBSD, without -N)', 'printf CANNELLONIv1 | nc 127.0.0.1 PORT'],
    ['socat, stdin held open', '{ printf CANNELLONIv1; sleep 30; } | socat - TCP:127.0.0.1:PORT'],
  ];
  for (const [name, cmd] of listeners) {
    it(`${name} keeps receiving after printf ended`, async () => {
      requireHostTools(name.startsWith('socat') ? 'socat' : 'nc');
      const b = await bridge(250);
      const port = b.port('cannelloni');
      const child = spawn('sh', ['-c', cmd.replace('PORT', String(port))], { stdio: ['ignore', 'pipe', 'ignore'] });
      let bytes = 0;
      child.stdout.on('data', (d: Buffer) => (bytes += d.length));
      try {
        await until(() => bytes > 12, 'the hello and a first frame', 5000);
        const first = bytes;
        await sleep(1500);
        expect(bytes).toBeGreaterThan(first + 250 * FRAME * 0.5);
        const snap = await (await ControlClient.connect(b.controlSocket)).snapshot();
        expect(snap.clients).toHaveLength(1);
      } finally {
        child.kill('SIGKILL');
      }
    }, 20_000);
  }

  it('nc -N (a FIN after the hello) is a client that left: closed, gone from status', async () => {
    requireHostTools('nc');
    const b = await bridge(0);
    const port = b.port('cannelloni');
    const child = spawn('sh', ['-c', `printf CANNELLONIv1 | nc -N 127.0.0.1 ${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // nc exits once the bridge closes its side too.
      expect(await Promise.race([exited, sleep(5000).then(() => 'still running')])).toBe(0);
      const snap = await (await ControlClient.connect(b.controlSocket)).snapshot();
      expect(snap.clients).toHaveLength(0);
      expect(snap.totals.accepted).toBe(1);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});
