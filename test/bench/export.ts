// `npm run bench -- --export`: `capture export` of a large store to each format, as a user
// runs it (the built CLI, its own process, output to a file). Wall time, throughput and the
// process's peak RSS at 100 k and 1 M frames: the peak must not grow with the row count
// (the export streams). Store: two buses, Ampio-like 29-bit IDs with 8 data bytes, rx with
// a tx every 20th frame, one frame per 2 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DecodedRecord } from '../../src/capture/batch.js';
import { loadSqlite } from '../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../src/capture/sqlite-store.js';
import { makeFrame } from '../../src/core/frame.js';
import { CLI } from './bridge-process.js';
import { fixed, int, table } from './report.js';

async function buildStore(file: string, rows: number): Promise<void> {
  const t0 = Date.now() - 86_400_000;
  const store = CaptureStore.open(await loadSqlite(), { path: file, now: () => t0 });
  const chunk = 50_000;
  for (let start = 0; start < rows; start += chunk) {
    const batch: DecodedRecord[] = [];
    for (let i = start; i < Math.min(rows, start + chunk); i++) {
      const tx = i % 20 === 19;
      batch.push({
        bus: i & 1,
        direction: tx ? 1 : 0,
        frame: makeFrame({
          id: 0x1d000000 | ((i * 7919) & 0xffff),
          extended: true,
          data: [i & 255, (i >> 8) & 255, 0x10, 0x20, 0x30, 0x40, 0x50, (i >> 16) & 255],
          timestamp: t0 + i * 2 + 0.125,
        }),
        session: tx ? 1 : 0,
        label: tx ? 'cannelloni' : null,
      });
    }
    store.append(batch, { 0: 'can0', 1: 'can1' });
  }
  store.close();
}

interface ExportRun {
  format: string;
  rows: number;
  seconds: number;
  /** user + system CPU of the export process: what the machine's other load does not inflate. */
  cpuSeconds: number;
  framesPerSec: number;
  peakRssMB: number;
  fileMB: number;
}

async function exportOnce(dir: string, db: string, format: string, rows: number): Promise<ExportRun> {
  const out = path.join(dir, `out.${format}`);
  const rssFile = path.join(dir, 'rss.txt');
  const probe = path.join(dir, 'rss-probe.mjs');
  writeFileSync(
    probe,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { const u = process.resourceUsage(); writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify([u.maxRSS, u.userCPUTime + u.systemCPUTime])); });\n`,
  );
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', probe, CLI, 'capture', 'export', '--capture', db, '--format', format, '-o', out], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`capture export --format ${format} exited ${code}`);
  const fileMB = statSync(out).size / 1e6;
  rmSync(out);
  const [maxRssKB, cpuUs] = JSON.parse(readFileSync(rssFile, 'utf8')) as [number, number];
  return { format, rows, seconds, cpuSeconds: cpuUs / 1e6, framesPerSec: rows / seconds, peakRssMB: maxRssKB / 1024, fileMB };
}

export async function main(args: string[]): Promise<number> {
  const sizes = args.includes('--quick') ? [100_000] : [100_000, 1_000_000];
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-export-'));
  const results: ExportRun[] = [];
  try {
    for (const rows of sizes) {
      const db = path.join(dir, `store-${rows}.db`);
      process.stderr.write(`bench export: building a store of ${int(rows)} frames …\n`);
      await buildStore(db, rows);
      for (const format of ['pcapng', 'asc', 'pcap', 'candump']) {
        const r = await exportOnce(dir, db, format, rows);
        process.stderr.write(`bench export: ${format} ${int(rows)} frames in ${fixed(r.seconds, 2)} s\n`);
        results.push(r);
      }
      rmSync(db, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else
    process.stdout.write(
      `${table(
        ['format', 'frames', 'wall s', 'CPU s', 'frames/s', 'peak RSS MB', 'file MB'],
        results.map((r) => [
          r.format,
          int(r.rows),
          fixed(r.seconds, 2),
          fixed(r.cpuSeconds, 2),
          int(r.framesPerSec),
          fixed(r.peakRssMB, 0),
          fixed(r.fileMB, 1),
        ]),
      )}\n`,
    );
  return 0;
}
