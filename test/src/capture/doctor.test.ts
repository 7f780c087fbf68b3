// doctor's capture checks on real files: a healthy store is summarised, a foreign file is a
// failure with its fix, and an unreachable PostgreSQL is reported without its password.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { captureChecks } from '../../../src/capture/doctor.js';
import { loadSqlite } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../src/capture/sqlite-store.js';
import { makeFrame } from '../../../src/core/frame.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-doctor-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('summarises a healthy store: frames, size against the bound, age, retention', async () => {
  const file = path.join(dir, 'capture.db');
  const s = CaptureStore.open(await loadSqlite(), { path: file });
  s.append(
    Array.from({ length: 500 }, (_, i) => ({
      bus: 0,
      direction: 0,
      frame: makeFrame({ id: 0x1d000001, extended: true, data: [i & 255], timestamp: Date.now() - 3_600_000 + i }),
      session: 0,
      label: null,
    })),
    { 0: 'can0' },
  );
  s.close();
  const checks = await captureChecks({ capture: file, 'capture-max-size': '64MB', 'capture-retention': '2d' }, {});
  expect(checks).toHaveLength(1);
  expect(checks[0]).toMatchObject({ id: 'capture', status: 'ok' });
  expect(checks[0].detail).toMatch(/^500 frames, .* of 64MB \(\d+ %\), oldest frame 60 min ago, retention 2d$/);
});

it('fails on a foreign file with the way out, and says capture is off when it is', async () => {
  const file = path.join(dir, 'capture.db');
  fs.writeFileSync(file, 'not a database');
  const [check] = await captureChecks({ capture: file }, {});
  expect(check).toMatchObject({ id: 'capture', status: 'fail' });
  expect(check.fix).toMatch(/move it away/);
  expect(await captureChecks({}, {})).toEqual([{ id: 'capture', status: 'ok', title: 'frame capture', detail: 'off (--capture not set)' }]);
});

it('reports an unreachable PostgreSQL as a failure, never showing the password', async () => {
  // A port nothing listens on: bind, note, close.
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const checks = await captureChecks({ capture: path.join(dir, 'new.db') }, { AMPIO_BRIDGE_PG_URL: `postgres://bridge:hunter2@127.0.0.1:${port}/can` });
  const pg = checks.find((c) => c.id === 'pg')!;
  expect(pg.status).toBe('fail');
  expect(pg.title).toBe(`PostgreSQL postgres://bridge@127.0.0.1:${port}/can`);
  expect(JSON.stringify(checks)).not.toContain('hunter2');
  expect(checks.find((c) => c.id === 'capture')).toMatchObject({ status: 'warn', detail: 'no store yet (created when the bridge starts)' });
});
