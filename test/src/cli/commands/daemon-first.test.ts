// `doctor` and `capture stats` ask the running daemon first (its control socket), the config
// file second (issue 28 §3): neither says "capture off" while the daemon it could have asked is
// capturing, and `capture` takes --control-socket. The daemon is the real control-socket server
// on a temp socket, fed a snapshot (test/support/fixture-control-server.ts); the store is real.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run as captureCommand } from '../../../../src/cli/commands/capture.js';
import { captureProbe } from '../../../../src/cli/commands/doctor.js';
import { loadSqlite } from '../../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../../src/capture/sqlite-store.js';
import type { CaptureSnapshot } from '../../../../src/control/protocol.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { captureCli } from '../../../support/cli-context.js';
import { fakeSnapshot } from '../../../support/fake-snapshot.js';
import { type FixtureControlServer, startFixtureControlServer } from '../../../support/fixture-control-server.js';

let dir: string;
let db: string;
let server: FixtureControlServer | null = null;

const capturing = (over: Partial<CaptureSnapshot> = {}): CaptureSnapshot => ({
  path: db,
  state: 'on',
  rows: 3,
  bytes: 40_960,
  oldestFrame: Date.now() - 60_000,
  newestFrame: Date.now(),
  frames: 3,
  dropped: 0,
  queued: 0,
  evicted: 0,
  forward: null,
  ...over,
});

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-daemon-first-'));
  db = path.join(dir, 'live.db');
  const s = CaptureStore.open(await loadSqlite(), { path: db });
  s.append(
    [0, 1, 2].map((i) => ({ bus: 0, direction: 0, frame: makeFrame({ id: 0x100 + i, data: [i], timestamp: Date.now() - 1000 + i }), session: 0, label: null })),
    { 0: 'can0' },
  );
  s.close();
});

afterEach(async () => {
  await server?.stop();
  server = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function daemon(capture: CaptureSnapshot | undefined): Promise<string> {
  const socket = path.join(dir, 'control.sock');
  server = await startFixtureControlServer(socket, { ...fakeSnapshot(), ...(capture ? { capture } : {}) });
  return socket;
}

/** The config file doctor reads (the service's). */
function config(keys: Record<string, unknown>): string {
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(keys));
  return file;
}

describe('capture stats asks the running daemon first', () => {
  it('--control-socket: reads the store the daemon writes (no --capture, no config) and shows what it is doing', async () => {
    const socket = await daemon(capturing());
    const c = captureCli({ env: {} });
    expect(await captureCommand(['stats', '--control-socket', socket], c.ctx)).toBe(0);
    expect(c.stderr()).toBe('');
    expect(c.stdout()).toContain(`store   ${db}`);
    expect(c.stdout()).toMatch(/^frames {2}3$/m);
    expect(c.stdout()).toMatch(/^bridge {2}capture on · 3 frames/m);
  });

  it('a daemon that does not capture is said so; --json carries the daemon', async () => {
    const socket = await daemon(undefined);
    const c = captureCli({ env: {} });
    expect(await captureCommand(['stats', '--capture', db, '--control-socket', socket, '--json'], c.ctx)).toBe(0);
    expect(JSON.parse(c.stdout())).toMatchObject({ path: db, rows: 3, daemon: { pid: expect.any(Number), capture: null } });
    const t = captureCli({ env: {} });
    expect(await captureCommand(['stats', '--capture', db, '--control-socket', socket], t.ctx)).toBe(0);
    expect(t.stdout()).toMatch(/^bridge {2}pid \d+ does not capture \(capture off\)$/m);
  });

  it('no daemon: the config file (or --capture) as before, nothing about a bridge', async () => {
    const c = captureCli({ env: {} });
    expect(await captureCommand(['stats', '--capture', db, '--control-socket', path.join(dir, 'none.sock')], c.ctx)).toBe(0);
    expect(c.stdout()).toContain(`store   ${db}`);
    expect(c.stdout()).not.toContain('bridge  ');
  });
});

describe('doctor asks the running daemon first', () => {
  it("capture on in the daemon while the config file has none: reported on, with the daemon's store", async () => {
    const socket = await daemon(capturing());
    const checks = await captureProbe(captureCli({ env: {} }).ctx, socket)(config({}));
    expect(checks[0]).toMatchObject({ id: 'capture', status: 'ok', title: `capture store ${db} (running daemon)` });
    expect(checks[0].detail).toMatch(/^capture on · 3 frames/);
  });

  it('a failed capture and a PostgreSQL backlog in the daemon are problems; a config change not applied yet is a warning', async () => {
    const socket = await daemon(
      capturing({
        state: 'failed',
        forward: {
          state: 'backing_off',
          target: 'pg/can',
          backlogRows: 5,
          lagSeconds: 30,
          rowsTotal: 0,
          errorsTotal: 2,
          lostTotal: 0,
          lastError: 'ECONNREFUSED',
        },
      }),
    );
    const checks = await captureProbe(captureCli({ env: {} }).ctx, socket)(config({ capture: '/var/lib/ampio-bridge/other.db' }));
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['capture', 'fail'],
      ['capture-config', 'warn'],
      ['pg', 'warn'],
    ]);
  });

  it('a daemon without capture, the config file with it: a warning to restart; no daemon: the config file', async () => {
    const socket = await daemon(undefined);
    const file = config({ capture: db });
    const live = await captureProbe(captureCli({ env: {} }).ctx, socket)(file);
    expect(live).toEqual([
      expect.objectContaining({
        id: 'capture',
        status: 'warn',
        detail: expect.stringContaining(`off in the running daemon (pid ${server!.state.daemon.pid}), though the config file sets --capture ${db}`),
      }),
    ]);
    await server!.stop();
    server = null;
    const fromConfig = await captureProbe(captureCli({ env: {} }).ctx, socket)(file);
    expect(fromConfig[0]).toMatchObject({ id: 'capture', status: 'ok', title: `capture store ${db}` });
  });
});
