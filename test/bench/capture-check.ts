// `npm run bench -- --capture-check [--size GB] [--cold]`: what the page check at open costs
// on a store at the default size bound (1 GB), and that the bridge never waits for it:
//   - quick_check of every page (warm; --cold first drops the page cache: root only);
//   - the built bridge on that store: time to `ready` (serving) and to `capture_open`;
//   - the same store with one bad page: time to `capture_off`, then `capture recover`.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { quickCheck } from '../../src/capture/damage.js';
import { loadSqlite } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { CLI } from './bridge-process.js';

const ROWS_PER_GB = 29_000_000; // ~37 bytes a row, as measured for Ampio traffic

function dropCaches(cold: boolean): void {
  if (!cold) return;
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** The built bridge on `file`: ms to `ready` and to capture's verdict (its own JSON log lines). */
function bridgeOn(file: string, config: string): Promise<{ readyMs: number; captureMs: number; event: string }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--log-format', 'json', '--backend', 'virtual', '--listen', '127.0.0.1:0', '--virtual-rate', '200', '--capture', file],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AMPIO_BRIDGE_CONFIG: config } },
  );
  return new Promise((resolve, reject) => {
    let readyMs = -1;
    let pending = '';
    child.once('exit', (code) => reject(new Error(`the bridge exited with ${code}`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const event = /"event":"(\w+)"/.exec(line)?.[1];
        if (event === 'ready') readyMs = performance.now() - t0;
        if (event === 'capture_open' || event === 'capture_off') {
          const captureMs = performance.now() - t0;
          child.removeAllListeners('exit');
          child.once('exit', () => resolve({ readyMs, captureMs, event }));
          child.kill('SIGTERM');
        }
      }
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--size');
  const gb = at >= 0 ? Number(argv[at + 1]) : 1;
  const cold = argv.includes('--cold');
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-check-'));
  const file = path.join(dir, 'capture.db');
  // An empty config file: the machine's own /etc/ampio-bridge/config.json must not leak in.
  const config = path.join(dir, 'none.json');
  writeFileSync(config, '{}\n');
  try {
    const Database = await loadSqlite();
    const rows = Math.round(gb * ROWS_PER_GB);
    process.stderr.write(`building a ${gb} GB store (${rows.toLocaleString('en-US')} rows)…\n`);
    const s = CaptureStore.open(Database, { path: file });
    s.append([], {});
    s.close();
    const db = new Database(file);
    db.pragma('synchronous = OFF');
    db.prepare("INSERT INTO buses (id, name, last_seq) VALUES (0, 'can0', 0), (1, 'can1', 0)").run();
    for (let from = 1; from <= rows; from += 1_000_000) {
      const to = Math.min(rows, from + 999_999);
      db.exec(
        `WITH RECURSIVE c(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM c WHERE x < ${to}) INSERT INTO frames (rowid, bus, seq, ts, id, flags, data, origin, label) SELECT x, x % 2, (x + 1) / 2, x * 3000, 488636416 + x % 50, 1, randomblob(8), NULL, NULL FROM c`,
      );
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = statSync(file).size;

    dropCaches(cold);
    const check = new Database(file, { readonly: true });
    let t = performance.now();
    const findings = quickCheck(check);
    const checkMs = performance.now() - t;
    check.close();

    dropCaches(cold);
    const sound = await bridgeOn(file, config);

    // One bad page in the middle of the file.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(bytes / 4096 / 2) * 4096);
    closeSync(fd);
    dropCaches(cold);
    const damaged = await bridgeOn(file, config);
    t = performance.now();
    const recover = spawnSync(process.execPath, [CLI, 'capture', 'recover', '--capture', file], { encoding: 'utf8' });
    const recoverMs = performance.now() - t;

    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      [
        `store ${mb(bytes)}, ${rows.toLocaleString('en-US')} frames, page cache ${cold ? 'dropped before each step' : 'warm'}`,
        `quick_check of every page          ${s1(checkMs)} (${findings ?? 'ok'})`,
        `sound store:   bridge ready after  ${s1(sound.readyMs)}, ${sound.event} after ${s1(sound.captureMs)}`,
        `one bad page:  bridge ready after  ${s1(damaged.readyMs)}, ${damaged.event} after ${s1(damaged.captureMs)}`,
        `capture recover                    ${s1(recoverMs)} (exit ${recover.status}): ${recover.stdout.split('\n').find((l) => l.startsWith('salvaged')) ?? recover.stderr}`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
