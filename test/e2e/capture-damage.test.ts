// The built `serve --capture` when the store goes wrong, as a house would live it:
// - a store with a bad page: the bridge starts and serves frames to a client; capture is
//   off with the reason in the log, `status`, metrics and `doctor`; `capture recover` and a
//   SIGHUP bring capture back in the same process (its uptime unaffected);
// - a full disk (a small tmpfs in a private mount namespace): one line when it starts, the
//   reason in `status` and metrics while it lasts, the bus still served, and the recovery
//   logged once space is freed.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DecodedRecord } from '../../src/capture/batch.js';
import { captureChecks } from '../../src/capture/doctor.js';
import { askDaemonCapture, liveCaptureChecks } from '../../src/cli/daemon-capture.js';
import { loadSqlite, type SqliteConstructor } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { makeFrame } from '../../src/core/frame.js';
import { BridgeChild, CLI, REPO } from '../support/bridge-child.js';
import { TestClient } from '../support/cannelloni-client.js';

let dir: string;
let Database: SqliteConstructor;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-damage-e2e-'));
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
  Database = await loadSqlite();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = () => ({ AMPIO_BRIDGE_CONFIG: path.join(dir, 'none.json') });

async function metrics(bridge: BridgeChild): Promise<string> {
  const addr = String(bridge.events('metrics_listen')[0]?.addr);
  return (await fetch(`http://${addr}/metrics`)).text();
}

/** Frames a client receives within `ms`. */
async function received(client: TestClient, ms: number): Promise<number> {
  const before = client.frames.length;
  await sleep(ms);
  return client.frames.length - before;
}

function status(bridge: BridgeChild): string {
  return execFileSync(process.execPath, [CLI, 'status', '--control-socket', bridge.controlSocket], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1' },
  }).toString();
}

it('a store with a bad data page: the bridge serves, capture is off with the reason everywhere; recover + SIGHUP bring it back in the same process', async () => {
  const file = path.join(dir, 'capture.db');
  const s = CaptureStore.open(Database, { path: file });
  const rows: DecodedRecord[] = Array.from({ length: 30_000 }, (_, i) => ({
    bus: 0,
    direction: 0,
    frame: makeFrame({ id: 0x1d000000 + (i % 50), extended: true, data: [i & 255, 1, 2], timestamp: Date.now() - 60_000 + i }),
    session: 0,
    label: null,
  }));
  s.append(rows, { 0: 'can0' });
  s.close();
  // A bad sector in the middle of the frames: no write at the end of the table touches it.
  const db = new Database(file, { readonly: true });
  const leaves = db.prepare("SELECT pageno FROM dbstat WHERE name = 'frames' AND pagetype = 'leaf' ORDER BY pageno").pluck().all() as number[];
  db.close();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (leaves[Math.floor(leaves.length / 2)] - 1) * 4096);
  fs.closeSync(fd);

  const bridge = await BridgeChild.start({
    args: ['--backend', 'virtual', '--listen', '127.0.0.1:0', '--virtual-rate', '200', '--capture', file, '--metrics-addr', '127.0.0.1:0'],
    env: env(),
  });
  try {
    const off = await bridge.waitFor((r) => r.event === 'capture_off', 15_000, 'capture_off');
    expect(off).toMatchObject({ level: 'error', reason: 'corrupt', path: file, hint: expect.stringContaining('ampio-bridge capture recover') });
    const client = await TestClient.connect(bridge.port('cannelloni'));
    expect(await received(client, 1000)).toBeGreaterThan(50);

    const snap = await bridge.snapshot();
    expect(snap.capture).toMatchObject({ state: 'failed', problem: { reason: 'corrupt' } });
    const text = status(bridge);
    expect(text).toMatch(/capture off \(store damaged\)/);
    expect(text).toMatch(/ampio-bridge capture recover --capture/);
    const m = await metrics(bridge);
    expect(m).toContain('\ncapture_up 0\n');
    expect(m).toContain('\ncapture_problem{reason="corrupt"} 1\n');
    // query asks the running bridge first: it knows the store is damaged, whatever the query reads.
    const query = spawnSync(process.execPath, [CLI, 'capture', 'query', '--since', '1m', '--control-socket', bridge.controlSocket], {
      cwd: REPO,
      env: { ...process.env, ...env() },
    });
    expect(query.status).toBe(1);
    expect(query.stderr.toString()).toMatch(/is damaged[\s\S]*capture recover/);
    // doctor: from the running daemon, and from the file when no daemon answers.
    const live = await askDaemonCapture({ flag: bridge.controlSocket, env: {} });
    expect(live.reached).toBe(true);
    if (live.reached)
      expect(liveCaptureChecks(live, {})[0]).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('is damaged'),
        fix: expect.stringContaining('capture recover'),
      });
    const doctor = await captureChecks({ capture: file }, {});
    expect(doctor[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('is damaged'), fix: expect.stringContaining('capture recover') });

    const recover = spawnSync(process.execPath, [CLI, 'capture', 'recover', '--capture', file], { cwd: REPO, env: { ...process.env, ...env() } });
    expect(recover.status, recover.stderr.toString()).toBe(0);
    expect(recover.stdout.toString()).toMatch(/salvaged 29,\d{3} frames/);
    bridge.reload();
    await bridge.waitFor((r) => r.event === 'capture_open', 15_000, 'capture_open after SIGHUP');
    const back = await bridge.snapshot();
    expect(back.capture).toMatchObject({ state: 'on', problem: null });
    expect(back.capture!.rows).toBeGreaterThan(29_000);
    // Same process all along; the client never noticed.
    expect(back.daemon.pid).toBe(snap.daemon.pid);
    expect(back.daemon.uptimeSec).toBeGreaterThan(snap.daemon.uptimeSec);
    expect(await received(client, 500)).toBeGreaterThan(20);
    // New frames are committed into the salvaged store.
    for (let i = 0; i < 50 && (await bridge.snapshot()).capture!.frames === 0; i++) await sleep(100);
    expect((await bridge.snapshot()).capture!.frames).toBeGreaterThan(0);
    client.destroy();
  } finally {
    expect(await bridge.stop()).toBe(0);
  }
}, 60_000);

function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

it('disk full (a 4 MB tmpfs in a private mount namespace): said once, the reason in status and metrics, the bus still served, the recovery logged', async () => {
  for (const tool of ['unshare', 'mount', 'mkfifo']) expect(haveTool(tool), `${tool} (util-linux / coreutils) is needed for this test`).toBe(true);
  expect(
    spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status,
    'a private mount namespace needs root (CAP_SYS_ADMIN): run this test as root, as CI does',
  ).toBe(0);
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  const fifo = path.join(dir, 'free-space');
  execFileSync('mkfifo', [fifo]);
  const q = (p: string) => `'${p}'`;
  // Inside the namespace: a tmpfs of 4 MB, 3 MB of it taken by a filler that goes away when
  // the test writes to the fifo.
  const prefix = `mount -t tmpfs -o size=4m ampio-test ${q(mnt)} && head -c 3000000 /dev/zero > ${q(`${mnt}/filler`)} && { (cat ${q(fifo)} > /dev/null; rm -f ${q(`${mnt}/filler`)}) & }`;
  const bridge = await BridgeChild.start({
    wrap: ['unshare', '-m', '--propagation', 'private'],
    shellPrefix: prefix,
    args: [
      '--backend',
      'virtual',
      '--listen',
      '127.0.0.1:0',
      '--virtual-rate',
      '5000',
      '--capture',
      path.join(mnt, 'capture.db'),
      '--capture-commit-interval',
      '100ms',
      '--metrics-addr',
      '127.0.0.1:0',
    ],
    env: env(),
  });
  let freed = false;
  const free = () => {
    if (!freed) fs.writeFileSync(fifo, 'go\n');
    freed = true;
  };
  try {
    const failed = await bridge.waitFor((r) => r.event === 'capture_write_failed', 30_000, 'capture_write_failed');
    expect(failed).toMatchObject({ level: 'error', reason: 'disk_full', hint: expect.stringContaining('free space') });
    const client = await TestClient.connect(bridge.port('cannelloni'));
    expect(await received(client, 1500)).toBeGreaterThan(1000);
    const snap = await bridge.snapshot();
    expect(snap.capture).toMatchObject({ state: 'on', problem: { reason: 'disk_full', message: expect.stringContaining('is full') } });
    expect(snap.capture!.dropped).toBeGreaterThan(0);
    expect(status(bridge)).toMatch(/capture on, not recording \(disk full\)[\s\S]*free space/);
    const m = await metrics(bridge);
    expect(m).toContain('\ncapture_problem{reason="disk_full"} 1\n');
    expect(m).toContain('\ncapture_up 0\n');
    const live = await askDaemonCapture({ flag: bridge.controlSocket, env: {} });
    if (live.reached)
      expect(liveCaptureChecks(live, {})[0]).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('is full'),
        fix: expect.stringContaining('free space'),
      });
    else expect.fail('the daemon did not answer doctor');
    // doctor without a daemon sees the full file system (through the bridge's own view of the mounts).
    const doctor = await captureChecks({ capture: `/proc/${bridge.pid}/root${mnt}/capture.db` }, {});
    expect(doctor.find((c) => c.id === 'capture-space')).toMatchObject({ status: 'fail', fix: expect.stringContaining('free space') });
    // Seconds of failing commits (ten a second): still one line, no reminder before 60 s.
    expect(bridge.events('capture_write_failed')).toHaveLength(1);
    expect(bridge.events('capture_write_failing')).toHaveLength(0);

    free();
    const recovered = await bridge.waitFor((r) => r.event === 'capture_write_recovered', 30_000, 'capture_write_recovered');
    expect(recovered).toMatchObject({ level: 'info', reason: 'disk_full', frames_lost: expect.any(Number) });
    expect(Number(recovered.frames_lost)).toBeGreaterThan(0);
    const after = await bridge.snapshot();
    expect(after.capture).toMatchObject({ state: 'on', problem: null });
    expect(await metrics(bridge)).toContain('\ncapture_up 1\n');
    client.destroy();
  } finally {
    free();
    expect(await bridge.stop()).toBe(0);
  }
}, 90_000);
