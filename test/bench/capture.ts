// `npm run bench -- --capture`: what frame capture costs the bridge, how big the store gets,
// and how fast the forwarder fills PostgreSQL. The bridge runs as its own process (the built
// CLI on the virtual bus), capture off and on at 21,300 frames/s (a saturated 1 Mbit/s bus)
// and 80,000 frames/s; PostgreSQL is a throwaway local cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodedRecord } from '../../src/capture/batch.js';
import { loadSqlite } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { startPostgres } from '../support/postgres.js';
import { BridgeProcess, CLI } from './bridge-process.js';
import { fixed, int, table } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROBE = path.join(HERE, 'loop-lag-probe.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  rate: number;
  capture: boolean;
  frames: number;
  cpuUsPerFrame: number;
  lagP99Ms: number;
  lagMaxMs: number;
  dropped: number;
  rows: number;
  bytesPerMillion: number;
}

async function bridgeRun(rate: number, capture: boolean, windowS: number): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-capture-'));
  const db = path.join(dir, 'capture.db');
  const lagFile = path.join(dir, 'lag.json');
  process.env.AMPIO_BENCH_LOOP_LAG_FILE = lagFile;
  const bridge = await BridgeProcess.start({
    args: ['--virtual-rate', String(rate), '--virtual-payload', 'ampio', ...(capture ? ['--capture', db] : [])],
    buses: 1,
    nodeArgs: ['--import', PROBE],
  });
  await sleep(2000);
  process.kill(bridge.pid, 'SIGUSR2');
  const cpu0 = bridge.cpuTimes();
  const s0 = await bridge.snapshot();
  await sleep(windowS * 1000);
  const cpu1 = bridge.cpuTimes();
  const s1 = await bridge.snapshot();
  await bridge.stop();
  const frames = s1.buses[0].rxFrames - s0.buses[0].rxFrames;
  const lag = JSON.parse(readFileSync(lagFile, 'utf8')) as { p99Ms: number; maxMs: number };
  let rows = 0;
  let bytes = 0;
  if (capture) {
    const store = CaptureStore.open(await loadSqlite(), { path: db, readonly: true });
    rows = store.summary().rows;
    store.close();
    for (const f of [db, `${db}-wal`]) if (existsSync(f)) bytes += statSync(f).size;
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    rate,
    capture,
    frames,
    cpuUsPerFrame: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / frames,
    lagP99Ms: lag.p99Ms,
    lagMaxMs: lag.maxMs,
    dropped: s1.capture?.dropped ?? 0,
    rows,
    bytesPerMillion: rows > 0 ? (bytes / rows) * 1e6 : 0,
  };
}

/** An hour of a busy Ampio bus (400 frames/s = 1.44 M rows) straight into a store, then drained into PostgreSQL. */
async function forwardRun(rows: number): Promise<{ rows: number; drainS: number; rowsPerS: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-forward-'));
  const db = path.join(dir, 'capture.db');
  const store = CaptureStore.open(await loadSqlite(), { path: db });
  const start = Date.now() - rows * 2.5;
  store.append(
    (function* (): Generator<DecodedRecord> {
      for (let i = 0; i < rows; i++) {
        yield {
          bus: i % 2,
          direction: 0,
          session: 0,
          label: null,
          frame: {
            id: (0x80000000 | (0x1d000000 + (i % 97))) >>> 0,
            len: 8,
            data: Uint8Array.of(0xfe, i & 255, 2, 3, 4, 5, 6, 7),
            fd: false,
            fdFlags: 0,
            timestamp: start + i * 2.5,
          },
        };
      }
    })(),
    { 0: 'can0', 1: 'can1' },
  );
  store.close();
  const pg = await startPostgres();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--backend',
      'virtual',
      '--virtual-rate',
      '0',
      '--listen',
      '127.0.0.1:0',
      '--control-socket',
      path.join(dir, 'c.sock'),
      '--capture',
      db,
      '--pg-url',
      pg.url,
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, PGPASSWORD: pg.password },
    },
  );
  const t0 = performance.now();
  let done = 0;
  while (done < rows) {
    await sleep(100);
    try {
      done = Number(pg.psql('SELECT count(*) FROM can_frames'));
    } catch {
      done = 0;
    }
  }
  const drainS = (performance.now() - t0) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  pg.destroy();
  rmSync(dir, { recursive: true, force: true });
  return { rows, drainS, rowsPerS: rows / drainS };
}

export async function main(argv: string[]): Promise<number> {
  const windowS = Number(argv[argv.indexOf('--window') + 1]) || 10;
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const runs: RunResult[] = [];
  for (const rate of [21_300, 80_000]) {
    for (const capture of [false, true]) {
      progress(`capture ${capture ? 'on' : 'off'} at ${rate} frames/s …`);
      runs.push(await bridgeRun(rate, capture, windowS));
    }
  }
  progress('forwarder: 1.44 M rows into a local PostgreSQL …');
  const fwd = await forwardRun(1_440_000);
  const out: string[] = [];
  out.push(`capture benchmark, ${windowS} s windows, bridge = built CLI on the virtual bus (Ampio-like frames), no clients`);
  out.push(
    table(
      ['rate', 'capture', 'frames', 'bridge CPU/frame', 'loop lag p99', 'loop lag max', 'capture drops', 'bytes per 1 M frames'],
      runs.map((r) => [
        int(r.rate),
        r.capture ? 'on' : 'off',
        int(r.frames),
        `${fixed(r.cpuUsPerFrame, 2)} µs`,
        `${fixed(r.lagP99Ms, 2)} ms`,
        `${fixed(r.lagMaxMs, 1)} ms`,
        r.capture ? int(r.dropped) : '-',
        r.capture ? `${fixed(r.bytesPerMillion / 1e6, 1)} MB` : '-',
      ]),
    ),
  );
  for (const rate of [21_300, 80_000]) {
    const off = runs.find((r) => r.rate === rate && !r.capture)!;
    const on = runs.find((r) => r.rate === rate && r.capture)!;
    out.push(
      `at ${int(rate)} frames/s capture adds ${fixed(on.cpuUsPerFrame - off.cpuUsPerFrame, 2)} µs CPU per frame; loop lag p99 ${fixed(off.lagP99Ms, 2)} → ${fixed(on.lagP99Ms, 2)} ms; ${int(on.dropped)} drops`,
    );
  }
  out.push(
    `forwarder: ${int(fwd.rows)} rows drained into PostgreSQL in ${fixed(fwd.drainS, 1)} s = ${int(fwd.rowsPerS)} rows/s (from bridge start, connection and table creation included)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
