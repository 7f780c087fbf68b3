// Store-and-forward into a real PostgreSQL server: 1 M captured frames reach the table
// exactly once although PostgreSQL crashes and stays away for 30 s, and the bridge is
// killed with -9 while it forwards. The table is then compared with the SQLite store.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DecodedRecord } from '../../src/capture/batch.js';
import { DIR_REFUSED, DIR_RX, DIR_TX } from '../../src/capture/schema.js';
import { loadSqlite } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { makeFrame } from '../../src/core/frame.js';
import { type PgCluster, startPostgres } from '../support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/cli/main.js');
const FRAMES = 1_000_000;
let dir: string;
let pg: PgCluster;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-pg-'));
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
  pg = await startPostgres();
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  pg?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An hour and more of a busy Ampio bus on two buses, written straight into the store (the forwarder's input). */
function* busyHour(n: number, startMs: number): Generator<DecodedRecord> {
  for (let i = 0; i < n; i++) {
    const kind = i % 100;
    const frame = makeFrame({
      id: 0x1d000000 + (i % 97),
      extended: true,
      data: [i & 255, (i >>> 8) & 255, (i >>> 16) & 255, 0xfe, 5, 6, 7, 8].slice(0, 1 + (i % 8)),
      timestamp: startMs + i * 2.5,
    });
    if (kind === 7) yield { bus: i % 2, direction: DIR_TX, frame, session: 3, label: 'cannelloni' };
    else if (kind === 8) yield { bus: i % 2, direction: DIR_REFUSED, frame, session: 4, label: 'queue_full' };
    else yield { bus: i % 2, direction: DIR_RX, frame, session: 0, label: null };
  }
}

interface Bridge {
  child: ChildProcess;
  log: () => string;
  exited: Promise<void>;
}

async function serve(db: string, rate: number): Promise<Bridge> {
  const c = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--backend',
      'virtual',
      '--can-if',
      'can0,can1',
      '--virtual-rate',
      String(rate),
      '--listen',
      '127.0.0.1:0',
      '--control-socket',
      path.join(dir, 'control.sock'),
      '--capture',
      db,
      '--capture-commit-interval',
      '200ms',
      '--pg-url',
      pg.url,
      '--log-level',
      'debug',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AMPIO_BRIDGE_CONFIG: path.join(dir, 'none.json'), PGPASSWORD: pg.password } },
  );
  children.push(c);
  let log = '';
  c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  return { child: c, log: () => log, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgRows(): number {
  try {
    return Number(pg.psql('SELECT count(*) FROM can_frames') || 0);
  } catch {
    return -1; // table not created yet, or the server is down
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

it('forwards 1 M frames exactly once through a 30 s PostgreSQL outage and a kill -9 of the bridge', async () => {
  const db = path.join(dir, 'capture.db');
  const Database = await loadSqlite();
  const seed = CaptureStore.open(Database, { path: db });
  seed.append(busyHour(FRAMES, Date.now() - FRAMES * 2.5 - 60_000), { 0: 'can0', 1: 'can1' });
  seed.close();

  // Phase 1: forwarding with live frames on top; PostgreSQL crashes mid-way and is away 30 s.
  let bridge = await serve(db, 100);
  await until('200k rows in PostgreSQL', () => pgRows() >= 200_000, 120_000);
  pg.crash();
  await sleep(30_000);
  pg.start();
  await until('600k rows in PostgreSQL', () => pgRows() >= 600_000, 120_000);
  // Phase 2: kill -9 while it forwards (between COPY and the mark, or inside the COPY).
  bridge.child.kill('SIGKILL');
  await bridge.exited;
  const phase1 = bridge.log();
  expect(phase1).not.toContain(pg.password);
  // One line per state change, not one per retry (the outage took several retries).
  expect(phase1.match(/pg_forward_state .*to=backing_off/g)).toHaveLength(1);
  expect(phase1).toMatch(/pg_forward_state from=backing_off to=connected/);

  // Phase 3: a new bridge, no new frames, drains the rest.
  bridge = await serve(db, 0);
  const reader = CaptureStore.open(Database, { path: db, readonly: true });
  const total = reader.summary().rows;
  expect(total).toBeGreaterThan(FRAMES);
  await until('every stored frame in PostgreSQL', () => pgRows() === total, 120_000);
  const status = JSON.parse(execFileSync(process.execPath, [MAIN, 'status', '--json', '--control-socket', path.join(dir, 'control.sock')]).toString());
  await until(
    'the backlog reported empty',
    () => {
      const s = JSON.parse(execFileSync(process.execPath, [MAIN, 'status', '--json', '--control-socket', path.join(dir, 'control.sock')]).toString());
      return s.capture?.forward?.backlogRows === 0;
    },
    10_000,
  );
  expect(status.capture.forward.state).toBe('connected');
  expect(status.capture.forward.target).not.toContain(pg.password);
  bridge.child.kill('SIGTERM');
  await bridge.exited;

  // Same rows, each once: the key is unique, the counts and per-bus sequence ranges match.
  const site = reader.siteId;
  const sqliteByBus = reader.db
    .prepare(
      'SELECT b.name, count(*), min(seq), max(seq), sum(seq), sum(flags >> 6 = 1), sum(flags >> 6 = 2) FROM frames f JOIN buses b ON b.id = f.bus GROUP BY b.name ORDER BY b.name',
    )
    .raw()
    .all()
    .map((r) => (r as unknown[]).join('|'));
  const pgByBus = pg
    .psql(
      `SELECT bus, count(*), min(seq), max(seq), sum(seq), count(*) FILTER (WHERE direction = 'tx'), count(*) FILTER (WHERE direction = 'refused') FROM can_frames WHERE site = '${site}' GROUP BY bus ORDER BY bus`,
    )
    .split('\n');
  expect(pgByBus).toEqual(sqliteByBus);
  expect(pg.psql('SELECT count(*) FROM (SELECT site, bus, seq FROM can_frames GROUP BY 1, 2, 3 HAVING count(*) > 1) d')).toBe('0');
  // Row content: a sample compared field by field.
  const sample = reader.db
    .prepare('SELECT b.name, f.seq, f.ts, hex(f.data), f.id, f.flags FROM frames f JOIN buses b ON b.id = f.bus WHERE f.rowid % 50021 = 0 ORDER BY f.rowid')
    .raw()
    .all() as Array<[string, number, number, string, number, number]>;
  expect(sample.length).toBeGreaterThan(10);
  for (const [bus, seq, ts, data, id, flags] of sample) {
    const row = pg.psql(
      `SELECT (extract(epoch FROM ts) * 1000000)::bigint, upper(encode(data, 'hex')), can_id, extended, direction, protocol, reason FROM can_frames WHERE site = '${site}' AND bus = '${bus}' AND seq = ${seq}`,
    );
    const direction = ['rx', 'tx', 'refused'][flags >> 6];
    expect(row).toBe(
      [ts + reader.tsBaseUs, data, id, 't', direction, direction === 'tx' ? 'cannelloni' : '', direction === 'refused' ? 'queue_full' : ''].join('|'),
    );
  }
  reader.close();
}, 400_000);
