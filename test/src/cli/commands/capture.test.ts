// `ampio-bridge capture` in-process on a real store: the answers a user asks for, exports
// that can-utils reads, and clear failures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../../../src/cli/commands/capture.js';
import { loadSqlite } from '../../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../../src/capture/sqlite-store.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { captureCli } from '../../../support/cli-context.js';

let dir: string;
let db: string;
// 02:10 … 02:20 local time yesterday, one frame every 100 ms on each of two buses.
const start = new Date(Date.now() - 86_400_000);
start.setHours(2, 10, 0, 0);
const T0 = start.getTime();
const day = `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, '0')}-${String(start.getDate()).padStart(2, '0')}`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-cli-'));
  db = path.join(dir, 'capture.db');
  const s = CaptureStore.open(await loadSqlite(), { path: db });
  s.append(
    Array.from({ length: 12_000 }, (_, i) => ({
      bus: i % 2,
      direction: i % 1000 === 999 ? 1 : 0,
      frame: makeFrame({ id: i % 600 === 0 ? 0x1d0000aa : 0x1d000000 + (i % 7), extended: true, data: [i & 255, 0xfe], timestamp: T0 + i * 50 }),
      session: i % 1000 === 999 ? 4 : 0,
      label: i % 1000 === 999 ? 'cannelloni' : null,
    })),
    { 0: 'can0', 1: 'can1' },
  );
  s.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const c = captureCli();
  const code = await run(args, c.ctx);
  return { code, out: c.stdout(), err: c.stderr() };
}

it('stats: frames, size per frame, span and per-bus counts', async () => {
  const { code, out } = await cli('stats', '--capture', db);
  expect(code).toBe(0);
  expect(out).toMatch(/^frames {2}12000$/m);
  expect(out).toMatch(/\(\d\d bytes per frame\)/);
  expect(out).toMatch(/^can0\s+6000\s+6000\s+0\s+0\s/m);
  expect(out).toMatch(/^can1\s+6000\s+5988\s+12\s+0\s/m);
});

it('query: what happened at 02:14, for one ID; newest frames by default', async () => {
  const { code, out } = await cli('query', '--capture', db, '--since', `${day} 02:14`, '--until', `${day} 02:15`, '--id', '0x1D0000AA');
  expect(code).toBe(0);
  const rows = out.trim().split('\n').slice(1);
  // IDs 0x1D0000AA every 600th frame = every 30 s: 02:14:00 and 02:14:30 (02:15:00 is the bound, inclusive).
  expect(rows.map((r) => r.split(/\s+/)[1])).toEqual(['02:14:00.000000', '02:14:30.000000', '02:15:00.000000']);
  expect(rows.every((r) => /\s1D0000AA\s+EFF\s+2\s/.test(r))).toBe(true);
  const json = JSON.parse((await cli('query', '--capture', db, '--limit', '3', '--json')).out);
  expect(json.map((f: { tsUs: number }) => f.tsUs)).toEqual([9997, 9998, 9999].map((i) => (T0 + (i + 2000) * 50) * 1000));
  expect(await cli('query', '--capture', db, '--since', '02:14')).toMatchObject({ code: 0 }); // a time of day is accepted
});

it('export: a candump log can-utils reads back, and GVRET CSV with tx rows marked', async () => {
  const log = path.join(dir, 'out.log');
  const r = await cli('export', '--capture', db, '--since', `${day} 02:10`, '--until', `${day} 02:10:10`, '-o', log);
  expect(r.code).toBe(0);
  expect(r.err).toBe(`201 frames written to ${log}\n`);
  const long = execFileSync('log2long', { input: fs.readFileSync(log) })
    .toString()
    .trim()
    .split('\n');
  expect(long).toHaveLength(201);
  expect(long[0]).toMatch(/^\(\d+\.000000\)\s+can0\s+1D0000AA\s+\[2\]\s+00 FE/);
  const csv = (await cli('export', '--capture', db, '--format', 'gvret-csv', '--direction', 'tx')).out.trim().split('\n');
  expect(csv[0]).toBe('Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8');
  expect(csv).toHaveLength(13);
  expect(csv[1]).toMatch(/^\d{16},1D00000[0-6],true,Tx,1,2,E7,FE,$/);
});

it('fails clearly: bad flags exit 2, a missing or foreign store exits 1 with the way out', async () => {
  expect((await cli('query', '--since', 'soon', '--capture', db)).code).toBe(2);
  expect((await cli('export', '--format', 'svg', '--capture', db)).err).toMatch(/not candump, gvret-csv, asc, pcapng, pcap/);
  expect((await cli('frobnicate')).code).toBe(2);
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'hello');
  await expect(cli('stats', '--capture', text)).rejects.toMatchObject({ hint: expect.stringMatching(/move it away/) });
  await expect(cli('stats', '--capture', path.join(dir, 'nothing.db'))).rejects.toMatchObject({ code: 'not_found' });
});
