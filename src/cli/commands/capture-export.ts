// `ampio-bridge capture export` (candump, GVRET CSV, ASC, PCAPNG, PCAP) and `capture import`
// (a candump -l log or an ASC file into a store). The codecs live in src/capture/formats/;
// this file only opens the store, picks the rows and streams them.
import { createReadStream, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { DecodedRecord } from '../../capture/batch.js';
import { writeExport } from '../../capture/export-stream.js';
import { AscReader } from '../../capture/formats/asc-reader.js';
import { type ParsedFrame, parseCandumpLine } from '../../capture/formats/candump.js';
import { EXPORT_FORMATS, type ExportFormat, isExportFormat } from '../../capture/formats/index.js';
import { DIR_RX, DIR_TX } from '../../capture/schema.js';
import { loadSqlite } from '../../capture/sqlite-binding.js';
import { CaptureStore } from '../../capture/sqlite-store.js';
import { type FrameFilter, queryFrames } from '../../capture/store-query.js';
import { type CliContext, EXIT } from '../context.js';
import { reportUnknownFlags } from '../flags.js';
import { FILTER_FLAGS, filterFrom, storePath } from './capture-filter.js';
import { asDamage, outputFile } from './capture-output.js';
import { askDaemon } from './capture-live.js';

const EXPORT_FLAGS = {
  ...FILTER_FLAGS,
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runExport(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: EXPORT_FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('capture export', tokens, EXPORT_FLAGS, ctx)) return EXIT.usage;
  const format = typeof values.format === 'string' ? values.format : 'candump';
  if (!isExportFormat(format)) {
    ctx.stderr.write(`ampio-bridge capture: --format "${format}" is not ${EXPORT_FORMATS.join(', ')}\n`);
    return EXIT.usage;
  }
  let filter: FrameFilter;
  try {
    filter = filterFrom(values as Record<string, string | boolean | undefined>, 'export', Date.now());
  } catch (err) {
    ctx.stderr.write(`ampio-bridge capture: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const path = storePath(values.capture, ctx);
  // An export reads (nearly) every page: all are checked first, so a damaged store is said
  // before anything is written, and -o FILE is the whole export or nothing (capture-output.ts).
  const store = CaptureStore.open(await loadSqlite(), { path, readonly: true, check: true });
  const output = typeof values.output === 'string' ? outputFile(values.output) : null;
  try {
    const file = typeof values.output === 'string' ? values.output : null;
    const out: Writable = output?.stream ?? ctx.stdout;
    const buses = store.buses().map((b) => b.name);
    const r = await writeExport(format as ExportFormat, queryFrames(store, filter), out, { buses });
    if (output) {
      await output.commit();
      ctx.stderr.write(`${r.written} frames written to ${file}${r.skipped > 0 ? ` (${r.skipped} the ${format} format cannot hold were left out)` : ''}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    throw asDamage(err, path);
  } finally {
    await output?.abort();
    store.close();
  }
}

const IMPORT_FLAGS = {
  capture: { type: 'string' },
  format: { type: 'string' },
  bus: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Rows per store transaction while importing. */
const IMPORT_BATCH = 5000;

export async function runImport(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args, options: IMPORT_FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('capture import', tokens, IMPORT_FLAGS, ctx, { maxPositionals: 1 })) return EXIT.usage;
  const file = positionals[0];
  if (!file) {
    ctx.stderr.write('ampio-bridge capture import: which file? (a candump -l log or an ASC file: capture import bus.log --capture imported.db)\n');
    return EXIT.usage;
  }
  const format = typeof values.format === 'string' ? values.format : /\.asc$/i.test(file) ? 'asc' : 'candump';
  if (format !== 'asc' && format !== 'candump') {
    ctx.stderr.write(`ampio-bridge capture import: --format "${format}" is not candump or asc\n`);
    return EXIT.usage;
  }
  if (typeof values.capture !== 'string' || values.capture.trim() === '') {
    ctx.stderr.write(
      "ampio-bridge capture import: into which store? Give --capture PATH (a new file is created; the bridge's own store is never written by import)\n",
    );
    return EXIT.usage;
  }
  const target = values.capture.trim();
  const live = await askDaemon(ctx, { type: 'snapshot' }).catch(() => null);
  const livePath = (live as { capture?: { path?: string } } | null)?.capture?.path;
  if (livePath && sameFile(livePath, target)) {
    ctx.stderr.write(
      `ampio-bridge capture import: the running bridge writes ${target}; import into another store (--capture imported.db) and read it with --capture imported.db\n`,
    );
    return EXIT.usage;
  }
  const onlyBus = typeof values.bus === 'string' ? values.bus : null;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const asc = new AscReader();
  const parse = (line: string): ParsedFrame | null => (format === 'asc' ? asc.line(line) : parseCandumpLine(line));
  // Each import is tagged in the frames' label column, so `capture query --json` tells the rows apart.
  const tag = `imported:${basename(file)}`;
  let store: CaptureStore | null = null;
  let batch: DecodedRecord[] = [];
  const busIds = new Map<string, number>();
  const names: Record<number, string> = {};
  let imported = 0;
  let unreadable = 0;
  const flush = (): void => {
    if (store && batch.length > 0) store.append(batch, names);
    batch = [];
  };
  try {
    for await (const line of lines) {
      const p = parse(line);
      if (!p) {
        if (line.trim() !== '' && format === 'candump') unreadable++;
        continue;
      }
      if (!store) {
        store = CaptureStore.open(await loadSqlite(), { path: target, now: () => p.tsUs / 1000 });
        const newest = store.summary().newestUs;
        if (newest !== null && newest > p.tsUs) {
          ctx.stderr.write(
            `ampio-bridge capture import: ${target} already holds frames newer than the log's first (the store keeps time order); import into a new store\n`,
          );
          return EXIT.failure;
        }
      }
      const bus = onlyBus ?? p.bus;
      let id = busIds.get(bus);
      if (id === undefined) {
        id = busIds.size;
        busIds.set(bus, id);
        names[id] = bus;
      }
      batch.push({ bus: id, direction: p.direction === 'tx' ? DIR_TX : DIR_RX, frame: p.frame, session: 0, label: tag });
      imported++;
      if (batch.length >= IMPORT_BATCH) flush();
    }
    flush();
  } finally {
    store?.close();
  }
  ctx.stderr.write(
    `${imported} frames imported from ${file} into ${target}${unreadable > 0 ? ` (${unreadable} lines were not frames and were skipped)` : ''}\n`,
  );
  return imported > 0 ? EXIT.ok : EXIT.failure;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
