// The capture store on real SQLite files in a temp dir: what goes in comes out (query and
// both export formats, checked with can-utils' own log reader), foreign files are refused
// untouched, and the age and size bounds delete the oldest frames.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter, type DecodedRecord, readBatch } from '../../../src/capture/batch.js';
import { candumpLine, gvretCsvLine } from '../../../src/capture/export.js';
import { parseCandumpLine } from '../../support/candump-log.js';
import { DIR_REFUSED, DIR_RX, DIR_TX } from '../../../src/capture/schema.js';
import { loadSqlite, type SqliteConstructor } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore, CaptureStoreError } from '../../../src/capture/sqlite-store.js';
import { busStats, parseIdFilter, parseTimeArg, queryFrames } from '../../../src/capture/store-query.js';
import { type CanFrame, makeFrame } from '../../../src/core/frame.js';

let dir: string;
let Database: SqliteConstructor;
const open: CaptureStore[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-'));
  Database = await loadSqlite();
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function store(name = 'capture.db', readonly = false, now?: () => number): CaptureStore {
  const s = CaptureStore.open(Database, { path: path.join(dir, name), readonly, now });
  open.push(s);
  return s;
}

/** Opening `file` must be refused with a CaptureStoreError: returns it. */
function openRefusal(file: string): CaptureStoreError {
  try {
    open.push(CaptureStore.open(Database, { path: file }));
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureStoreError);
    return err as CaptureStoreError;
  }
  throw new Error(`${file} was opened, not refused`);
}

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0); // ms
const rx = (frame: CanFrame, bus = 0): DecodedRecord => ({ bus, direction: DIR_RX, frame, session: 0, label: null });

function ampioFrames(n: number, startMs: number, stepMs: number): DecodedRecord[] {
  return Array.from({ length: n }, (_, i) =>
    rx(makeFrame({ id: 0x1d000000 + (i % 50), extended: true, data: [i & 255, (i >> 8) & 255, 3, 4, 5, 6, 7, 8], timestamp: startMs + i * stepMs }), i % 2),
  );
}

const frameArb = fc
  .record({
    extended: fc.boolean(),
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    kind: fc.constantFrom('data', 'rtr', 'fd', 'err'),
    data: fc.uint8Array({ maxLength: 8 }),
    fdLen: fc.constantFrom(0, 1, 8, 12, 16, 20, 24, 32, 48, 64),
    rtrLen: fc.integer({ min: 0, max: 8 }),
    brs: fc.boolean(),
    ts: fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }),
  })
  .map(({ extended, id, kind, data, fdLen, rtrLen, brs, ts }): CanFrame => {
    const arb = extended ? id : id & 0x7ff;
    const base = { timestamp: ts / 1000, extended };
    if (kind === 'rtr') return makeFrame({ ...base, id: arb, rtr: true, len: rtrLen });
    if (kind === 'err') return makeFrame({ ...base, id: id & 0x3ff, extended: false, error: true, data: [0, 4, 0, 0, 0, 0, 0, 0] });
    if (kind === 'fd') return makeFrame({ ...base, id: arb, fd: true, fdFlags: brs ? 1 : 0, data: Array.from({ length: fdLen }, (_, i) => (i * 7) & 255) });
    return makeFrame({ ...base, id: arb, data });
  });

describe('batches between the bus thread and the worker', () => {
  it('every frame, direction, session and label survives packing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(frameArb, fc.constantFrom(DIR_RX, DIR_TX, DIR_REFUSED), fc.nat(1000), fc.option(fc.constantFrom('cannelloni', 'tcpcan', 'read_only'))),
          { maxLength: 200 },
        ),
        (items) => {
          const w = new BatchWriter(4096);
          const out: DecodedRecord[] = [];
          const drain = () => {
            const b = w.take();
            if (b) out.push(...readBatch(b));
          };
          for (const [frame, direction, session, label] of items) {
            if (!w.add(1, 'can1', direction, frame, session, label)) {
              drain();
              expect(w.add(1, 'can1', direction, frame, session, label)).toBe(true);
            }
          }
          drain();
          expect(out).toEqual(
            items.map(([frame, direction, session, label]) => ({ bus: 1, direction, frame: { ...frame, data: Uint8Array.from(frame.data) }, session, label })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the store', () => {
  it('gives back every frame exactly as stored, with contiguous per-bus sequence numbers (property)', () => {
    const s = store();
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 50 }), (frames) => {
        const before = s.summary().lastRowid;
        s.append(
          frames.map((f, i) => ({ bus: 0, direction: i % 3, frame: f, session: i % 3 === 0 ? 0 : 7, label: i % 3 === 0 ? null : 'x' })),
          { 0: 'can0' },
        );
        const back = [...queryFrames(s, {})].filter((c) => c.rowid > before);
        expect(back.map((c) => c.frame)).toEqual(
          frames.map((f) => ({ ...f, data: Uint8Array.from(f.data), timestamp: Math.round(f.timestamp * 1000) / 1000 })),
        );
        expect(back.map((c) => c.direction)).toEqual(frames.map((_, i) => ['rx', 'tx', 'refused'][i % 3]));
      }),
      { numRuns: 40 },
    );
    const seqs = [...queryFrames(s, {})].map((c) => c.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('query filters by time, bus, ID/mask and limit; a second connection reads while the writer holds it open', () => {
    const w = store();
    w.append(ampioFrames(10_000, T0, 1), { 0: 'can0', 1: 'can1' }); // 10 s of frames, 1 ms apart
    const r = store('capture.db', true);
    const since = (T0 + 2000) * 1000;
    const until = (T0 + 2999) * 1000;
    const window = [...queryFrames(r, { sinceUs: since, untilUs: until })];
    expect(window).toHaveLength(1000);
    expect(window.every((c) => c.tsUs >= since && c.tsUs <= until)).toBe(true);
    expect([...queryFrames(r, { sinceUs: since, untilUs: until, buses: ['can1'] })]).toHaveLength(500);
    const one = [...queryFrames(r, { id: parseIdFilter('0x1D000007') })];
    expect(one).toHaveLength(200);
    expect(one.every((c) => (c.frame.id & 0x1fffffff) === 0x1d000007)).toBe(true);
    expect([...queryFrames(r, { id: parseIdFilter('1D000000/1FFFFFF0') })]).toHaveLength(16 * 200);
    expect([...queryFrames(r, { limit: 7 })]).toHaveLength(7);
    expect(busStats(r).map((b) => [b.bus, b.frames, b.lastSeq])).toEqual([
      ['can0', 5000, 5000],
      ['can1', 5000, 5000],
    ]);
  });

  it('exports a candump log that can-utils reads back frame for frame, and SavvyCAN GVRET CSV rows', () => {
    const s = store();
    const frames = [
      makeFrame({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad, 0xbe, 0xef], timestamp: T0 + 0.001 }),
      makeFrame({ id: 0x123, data: [], timestamp: T0 + 1 }),
      makeFrame({ id: 0x7ff, rtr: true, len: 8, timestamp: T0 + 2 }),
      makeFrame({ id: 0x004, error: true, extended: false, data: [0, 4, 0, 0, 0, 0, 0, 0], timestamp: T0 + 3 }),
      makeFrame({ id: 0x321, fd: true, fdFlags: 1, data: Array.from({ length: 12 }, (_, i) => i), timestamp: T0 + 4 }),
    ];
    s.append(
      frames.map((f) => rx(f)),
      { 0: 'can0' },
    );
    const captured = [...queryFrames(s, {})];
    const log = `${captured.map(candumpLine).join('\n')}\n`;
    const parsed = log.trim().split('\n').map(parseCandumpLine);
    expect(parsed.map((p) => p?.frame)).toEqual(captured.map((c) => c.frame));
    expect(parsed.map((p) => p?.tsUs)).toEqual(captured.map((c) => c.tsUs));
    expect(parsed.map((p) => p?.marker)).toEqual(captured.map(() => 'R')); // candump -x: received
    // can-utils' own parser of the log format (the one canplayer uses).
    const long = execFileSync('log2long', { input: log }).toString().trim().split('\n');
    expect(long).toHaveLength(5);
    expect(long[0]).toMatch(/^\(\d+\.\d{6}\)\s+can0\s+1ABCDEF0\s+\[4\]\s+DE AD BE EF/);
    expect(long[2]).toMatch(/7FF\s+\[8\]\s+remote request/);
    expect(long[3]).toMatch(/20000004\s+\[8\].*ERRORFRAME/);
    expect(long[4]).toMatch(/321\s+\[12\]\s+00 01 02/);
    expect(gvretCsvLine(captured[0], 0)).toBe(`${Math.round(captured[0].tsUs)},1ABCDEF0,true,Rx,0,4,DE,AD,BE,EF,`);
  });

  it('refuses a foreign file and leaves it byte for byte as it was', () => {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'my notes, not a database\n'.repeat(10));
    const other = path.join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    db.close();
    for (const file of [text, other]) {
      const before = fs.readFileSync(file);
      const error = openRefusal(file);
      expect(error.code).toBe('foreign_file');
      expect(error.message).toContain('not a capture store');
      expect(error.hint).toMatch(/move it away/);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    }
  });

  it('a store in a directory that does not exist: says so (not "damaged") and creates nothing', () => {
    const file = path.join(dir, 'no-such-dir', 'capture.db');
    const error = openRefusal(file);
    expect(error.code).toBe('unwritable');
    expect(error.message).toContain('does not exist');
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  });

  it('refuses a damaged store with a clear error instead of overwriting it', () => {
    const s = store();
    s.append(ampioFrames(20_000, T0, 1), { 0: 'can0', 1: 'can1' });
    s.close();
    const file = path.join(dir, 'capture.db');
    const bytes = fs.readFileSync(file);
    // Keep the header (so it still claims to be ours), scribble over the pages.
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = 0xa5;
    fs.writeFileSync(file, bytes);
    let error: unknown;
    try {
      const damaged = store();
      [...queryFrames(damaged, {})];
    } catch (err) {
      error = err;
    }
    expect(String((error as Error)?.message)).toMatch(/cannot be read|malformed|not a database/);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('deletes frames older than the retention age, oldest first, and keeps the sequence going', () => {
    const s = store();
    s.append(ampioFrames(6000, T0, 1000), { 0: 'can0', 1: 'can1' }); // 100 minutes
    const { deleted } = s.evict({ nowMs: T0 + 100 * 60_000, retentionMs: 30 * 60_000, maxBytes: 0 });
    expect(deleted).toBe(4200); // minutes 0..69
    const left = [...queryFrames(s, {})];
    expect(left[0].tsUs).toBeGreaterThanOrEqual((T0 + 70 * 60_000) * 1000);
    expect(s.summary().rows).toBe(1800);
    s.append(ampioFrames(2, T0 + 101 * 60_000, 1), { 0: 'can0', 1: 'can1' });
    const after = [...queryFrames(s, {})];
    expect(after.at(-1)!.rowid).toBe(6002);
    expect(after.filter((c) => c.bus === 'can0').at(-1)!.seq).toBe(3001);
  });

  it('keeps the store under --capture-max-size by deleting the oldest tenth in one go, and the file stops growing', () => {
    const s = store();
    const maxBytes = 2 * 1024 * 1024;
    let sizes: number[] = [];
    for (let round = 0; round < 12; round++) {
      s.append(ampioFrames(10_000, T0 + round * 10_000, 1), { 0: 'can0', 1: 'can1' });
      s.evict({ nowMs: T0, retentionMs: 0, maxBytes });
      s.db.pragma('wal_checkpoint(TRUNCATE)');
      sizes.push(fs.statSync(path.join(dir, 'capture.db')).size);
      expect(s.summary().usedBytes).toBeLessThanOrEqual(maxBytes);
    }
    // Over the bound by at most one commit's worth, then flat: freed pages are reused.
    sizes = sizes.slice(-6);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(maxBytes * 1.2);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(64 * 1024);
    const sum = s.summary();
    expect(sum.lastRowid).toBe(120_000);
    expect(sum.rows).toBeLessThan(120_000);
    const rows = [...queryFrames(s, {})];
    expect(rows[0].rowid).toBe(sum.firstRowid);
    expect(rows).toHaveLength(sum.rows);
  });
});

describe('time and ID arguments', () => {
  const now = new Date(2026, 10, 30, 9, 0, 0).getTime();
  it('reads ages, times of day, dates and epoch seconds', () => {
    expect(parseTimeArg('2h', now)).toBe(now - 7_200_000);
    expect(parseTimeArg('1d', now)).toBe(now - 86_400_000);
    expect(parseTimeArg('02:14', now)).toBe(new Date(2026, 10, 30, 2, 14, 0).getTime());
    expect(parseTimeArg('23:00', now)).toBe(new Date(2026, 10, 29, 23, 0, 0).getTime());
    expect(parseTimeArg('2026-11-29 02:14:30', now)).toBe(new Date(2026, 10, 29, 2, 14, 30).getTime());
    expect(parseTimeArg('2026-11-29T02:14:30Z', now)).toBe(Date.UTC(2026, 10, 29, 2, 14, 30));
    expect(parseTimeArg('1764470040.5', now)).toBe(1764470040500);
    expect(() => parseTimeArg('yesterday', now)).toThrow(/not a time/);
  });
  it('reads IDs and ID/mask pairs in hex', () => {
    expect(parseIdFilter('0x1ABC')).toEqual({ value: 0x1abc, mask: 0x1fffffff });
    expect(parseIdFilter('0x1A00/0xFF00')).toEqual({ value: 0x1a00, mask: 0xff00 });
    expect(() => parseIdFilter('0x3FFFFFFF')).toThrow(/29 bits/);
    expect(() => parseIdFilter('light')).toThrow(/not a CAN ID/);
  });
});
