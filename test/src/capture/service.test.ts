// The capture service in-process with its real worker thread and a real file: frames
// reach the store at each commit, a full queue drops (counted, logged at most once per
// interval) instead of growing, and the options that drive it parse as documented.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CaptureService } from '../../../src/capture/service.js';
import { loadSqlite } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../src/capture/sqlite-store.js';
import { formatAge, formatByteSize, OPTIONS, parseAge, parseByteSize } from '../../../src/config/options.js';
import { loadConfig } from '../../../src/config/load.js';
import { makeFrame } from '../../../src/core/frame.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-svc-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const bus = { index: 0, name: 'can0' };
const frame = (i: number) => makeFrame({ id: 0x1d000000 + (i % 10), extended: true, data: [i & 255, 1, 2, 3], timestamp: Date.now() });

function service(file: string, extra: Partial<ConstructorParameters<typeof CaptureService>[0]> = {}) {
  const logs: Array<{ level: string; event: string; fields?: Record<string, unknown> }> = [];
  const svc = new CaptureService({
    path: file,
    commitIntervalMs: 50,
    retentionMs: 0,
    maxBytes: 0,
    drops: false,
    forward: null,
    hostname: 'test',
    log: (level, event, fields) => logs.push({ level, event, fields }),
    ...extra,
  });
  return { svc, logs };
}

it('commits what the tap receives; a clean stop leaves nothing behind', async () => {
  const file = path.join(dir, 'c.db');
  const { svc } = service(file);
  await svc.start();
  for (let i = 0; i < 5000; i++) svc.tap.received(bus, frame(i));
  svc.tap.refused(bus, frame(0), 'filtered', { session: 2, protocol: 'tcpcan' }); // --capture-drops is off
  await svc.stop();
  expect(svc.snapshot()).toMatchObject({ state: 'stopped', frames: 5000, rows: 5000, dropped: 0, queued: 0 });
  const store = CaptureStore.open(await loadSqlite(), { path: file, readonly: true });
  expect(store.summary().rows).toBe(5000);
  store.close();
});

it('drops beyond the bounded queue, counts every drop and logs them at most once per interval', async () => {
  const { svc, logs } = service(path.join(dir, 'c.db'), { maxQueuedFrames: 1000, commitIntervalMs: 60_000, dropLogIntervalMs: 200 });
  await svc.start();
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < 700) {
    for (let i = 0; i < 500; i++, sent++) svc.tap.received(bus, frame(sent));
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = Date.now() - started;
  const snap = svc.snapshot();
  expect(snap.queued).toBe(1000);
  expect(snap.dropped).toBe(sent - 1000);
  const lines = logs.filter((l) => l.event === 'capture_dropped');
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines.length).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 1); // at most one per 200 ms
  expect(lines.reduce((n, l) => n + Number(l.fields!.frames), 0)).toBeLessThanOrEqual(sent - 1000);
  await svc.stop();
});

it('on a foreign file capture goes off with the reason and the way out (start never throws: the bridge keeps serving)', async () => {
  const file = path.join(dir, 'c.db');
  fs.writeFileSync(file, 'hello');
  const { svc, logs } = service(file);
  await svc.start();
  await svc.opened();
  expect(svc.snapshot()).toMatchObject({ state: 'failed', problem: { reason: 'foreign_file', hint: expect.stringMatching(/move it away/) } });
  expect(logs.find((l) => l.event === 'capture_off')).toMatchObject({ level: 'error', fields: { reason: 'foreign_file' } });
  // Moved away and SIGHUP: capture comes on with a new store.
  fs.renameSync(file, `${file}.other`);
  await svc.reload();
  expect(svc.snapshot()).toMatchObject({ state: 'on', problem: null });
  await svc.stop();
  expect(fs.readFileSync(`${file}.other`, 'utf8')).toBe('hello');
});

it('reads sizes and ages as the README shows them, and --pg-url needs --capture', () => {
  expect(parseByteSize('1GB')).toBe(1024 ** 3);
  expect(parseByteSize('512MB')).toBe(512 * 1024 ** 2);
  expect(parseByteSize('0')).toBe(0);
  expect(() => parseByteSize('12KB')).toThrow(/at least 1MB/);
  expect(() => parseByteSize('lots')).toThrow(/not a size/);
  expect(formatByteSize(OPTIONS.captureMaxSize.default)).toBe('1GB');
  expect(parseAge('7d')).toBe(7 * 86_400_000);
  expect(parseAge('1d12h')).toBe(36 * 3_600_000);
  expect(formatAge(OPTIONS.captureRetention.default)).toBe('7d');
  const bad = loadConfig({ argv: ['--pg-url', 'postgres://u@h/db'], env: {}, isRoot: false, cwd: dir });
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.errors[0].message).toMatch(/--pg-url .*capture is off.*add --capture/);
  const good = loadConfig({
    argv: ['--capture', '/tmp/x.db', '--pg-url', 'postgres://u@h/db', '--capture-max-size', '2GB', '--capture-retention', '30d'],
    env: {},
    isRoot: false,
    cwd: dir,
  });
  expect(good.ok && [good.config.capture, good.config.captureMaxSize, good.config.captureRetention]).toEqual(['/tmp/x.db', 2 * 1024 ** 3, 30 * 86_400_000]);
});
