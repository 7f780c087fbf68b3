// Store-and-forward to PostgreSQL. The SQLite store is the outbox: rows after the
// forwarder's high-water mark (a rowid in `forward_state`) go to PostgreSQL in batches.
//
// Exactly once, across crashes of either side: each batch is COPYed into a temporary
// table and moved with INSERT … ON CONFLICT DO NOTHING on the key (site, bus, seq, ts),
// in one PostgreSQL transaction; only after COMMIT returns is the mark advanced in
// SQLite. A crash between the two re-sends that batch, and the key absorbs it.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Backoff } from '../core/backoff.js';
import { lengthToDlc } from '../core/frame.js';
import {
  DIR_REFUSED,
  DIR_TX,
  DIRECTION_MASK,
  DIRECTION_SHIFT,
  DIRECTIONS,
  FLAG_BRS,
  FLAG_EFF,
  FLAG_ERR,
  FLAG_ESI,
  FLAG_FD,
  FLAG_RTR,
  RTR_DLC_SHIFT,
} from './schema.js';
import type { SqliteDatabase } from './sqlite-binding.js';
import type { CaptureStore } from './sqlite-store.js';
import type { ForwarderState, ForwardSettings, ForwardStatus } from './worker-messages.js';
import { createTableSql, quoteTable, STAGE_TABLE } from './pg-schema.js';
import type { LogFn } from '../core/log-fn.js';
import { isDamage } from './damage.js';

export interface PgForwarderOptions {
  store: CaptureStore;
  /**
   * A second, read-only connection to the store for the rows being sent: they stream while
   * the worker keeps committing on the writer connection (one connection cannot do both).
   */
  reader?: SqliteDatabase;
  settings: ForwardSettings;
  hostname: string;
  log: LogFn;
  status(status: ForwardStatus): void;
  /** The store turned out damaged while reading rows to send: the forwarder stops, capture goes off. */
  onDamage?(err: unknown): void;
}

type Row = [
  rowid: number,
  bus: number,
  seq: number,
  ts: number,
  id: number,
  flags: number,
  hexData: string,
  dataLength: number,
  origin: number | null,
  label: number | null,
];

const STATUS_EVERY_MS = 500;
const UNIQUE_VIOLATION = '23505';
/** A flag bit as a COPY text boolean. */
const bool = (bit: number): string => (bit === 0 ? 'f' : 't');
const DIRECTION_TEXT: readonly string[] = DIRECTIONS;
const IDLE_POLL_MS = 1000;

export class PgForwarder {
  private state: ForwarderState = 'connecting';
  private stopping = false;
  private client: pg.Client | null = null;
  private mark = 0;
  private lost = 0;
  private rowsTotal = 0;
  private errorsTotal = 0;
  private lastError: string | null = null;
  /** Highest rowid of the batch being copied (eviction of those rows is not a loss). */
  private inFlightEnd = 0;
  /** Rows up to this rowid may already be in PostgreSQL (see drain()). */
  private uncertainThrough = 0;
  private wakeUp: (() => void) | null = null;
  private lastStatusAt = 0;
  private running: Promise<void> | null = null;
  private readonly backoff = new Backoff({ initial: 1000, max: 60_000 });
  private readonly target: string;
  private readonly table: string;
  private busNames = new Map<number, string>();
  private labelNames = new Map<number, string>();

  private readonly reader: SqliteDatabase;

  constructor(private readonly opts: PgForwarderOptions) {
    this.reader = opts.reader ?? opts.store.db;
    this.table = quoteTable(opts.settings.table);
    this.target = `${opts.settings.display}#${opts.settings.table}`;
    const db = opts.store.db;
    const row = db.prepare('SELECT last_rowid, lost FROM forward_state WHERE target = ?').raw().get(this.target) as [number, number] | undefined;
    if (row) [this.mark, this.lost] = row;
    else {
      // A new target gets all the history the store still holds.
      this.mark = opts.store.summary().firstRowid - 1;
      if (this.mark < 0) this.mark = 0;
      this.saveMark();
    }
  }

  start(): void {
    this.running = this.loop();
  }

  /** New rows were committed: stop waiting. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.client?.end().catch(() => {});
    await this.running?.catch(() => {});
    if (this.reader !== this.opts.store.db) this.reader.close();
  }

  /** The store deleted rows up to `through`: those not yet forwarded are lost for good. */
  evicted(through: number): void {
    const from = Math.max(this.mark, this.inFlightEnd);
    if (through <= from) return;
    const lost = through - from;
    this.lost += lost;
    this.mark = through;
    this.saveMark();
    this.opts.log('warn', 'capture_forward_lost', {
      rows: lost,
      total: this.lost,
      message: 'frames were evicted from the store before PostgreSQL received them',
    });
    this.publish(true);
  }

  status(): ForwardStatus {
    const s = this.opts.store.summary();
    const backlogRows = Math.max(0, s.lastRowid - this.mark);
    let lagSeconds = 0;
    if (backlogRows > 0) {
      const ts = this.opts.store.db.prepare('SELECT ts FROM frames WHERE rowid > ? ORDER BY rowid LIMIT 1').pluck().get(this.mark) as number | undefined;
      if (ts !== undefined) lagSeconds = Math.max(0, (Date.now() * 1000 - (ts + this.opts.store.tsBaseUs)) / 1e6);
    }
    return {
      state: this.state,
      target: this.target,
      backlogRows,
      lagSeconds,
      rowsTotal: this.rowsTotal,
      errorsTotal: this.errorsTotal,
      lostTotal: this.lost,
      lastError: this.lastError,
    };
  }

  private publish(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    this.opts.status(this.status());
  }

  private setState(next: ForwarderState, fields?: Record<string, unknown>): void {
    if (next === this.state) return;
    const from = this.state;
    this.state = next;
    const level = next === 'backing_off' ? 'warn' : 'info';
    this.opts.log(level, 'pg_forward_state', { from, to: next, target: this.target, ...fields });
    this.publish(true);
  }

  private saveMark(): void {
    this.opts.store.db
      .prepare(
        'INSERT INTO forward_state (target, last_rowid, lost, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (target) DO UPDATE SET last_rowid = excluded.last_rowid, lost = excluded.lost, updated_at = excluded.updated_at',
      )
      .run(this.target, this.mark, this.lost, Date.now());
  }

  private async loop(): Promise<void> {
    this.publish(true);
    while (!this.stopping) {
      try {
        await this.connect();
        this.backoff.reset();
        this.setState('connected');
        await this.drain();
      } catch (err) {
        if (this.stopping) break;
        if (isDamage(err) && this.opts.onDamage) {
          this.opts.onDamage(err);
          break;
        }
        this.errorsTotal++;
        this.lastError = (err as Error).message;
        const client = this.client;
        this.client = null;
        client?.end().catch(() => {});
        const delay = this.backoff.next();
        if (this.state === 'backing_off') this.publish(true);
        this.setState('backing_off', { error: this.lastError, retry_in_ms: delay });
        await this.sleep(delay);
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.settings.url, application_name: 'ampio-bridge capture' });
    // A dropped connection emits 'error' outside any query; without a listener it would end the thread.
    client.on('error', () => {});
    this.client = client;
    await client.connect();
    for (const sql of await createTableSql(client, this.opts.settings.table)) await client.query(sql);
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE_TABLE} (LIKE ${this.table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  }

  private async drain(): Promise<void> {
    // Measured on the dev VM against a local PostgreSQL, 1.44 M rows: 50,000 rows per
    // transaction drained at ~80,000 rows/s, 100,000 at ~120,000, 200,000 at ~175,000. The
    // rows stream, so a batch costs no memory here; a re-send after a crash is one batch.
    const batchRows = this.opts.settings.batchRows ?? 200_000;
    // A run that died after PostgreSQL committed but before the mark was saved sent at most
    // one batch beyond the mark; so did a COMMIT whose answer the network lost.
    this.uncertainThrough = Math.max(this.uncertainThrough, this.mark + batchRows);
    while (!this.stopping) {
      const lastRowid = this.opts.store.summary().lastRowid;
      if (lastRowid <= this.mark) {
        this.publish();
        await this.sleep(IDLE_POLL_MS);
        continue;
      }
      const through = Math.min(lastRowid, this.mark + batchRows);
      this.inFlightEnd = through;
      const { rows, inserted } = await this.copy(this.mark, through, this.mark + 1 <= this.uncertainThrough);
      // PostgreSQL has committed: only now may the mark move.
      this.mark = through;
      this.saveMark();
      this.inFlightEnd = 0;
      this.rowsTotal += inserted;
      if (inserted < rows)
        this.opts.log('info', 'pg_forward_duplicates', { rows: rows - inserted, message: 'rows PostgreSQL already had (sent before a crash) were skipped' });
      this.publish();
    }
  }

  /**
   * Rows (after, through] in one PostgreSQL transaction. Rows that may already be there go
   * through the temporary table and INSERT … ON CONFLICT DO NOTHING; the rest (nearly all)
   * are COPYed straight into the table, about twice as fast. Should a straight COPY still
   * meet a duplicate, the batch is retried through the temporary table. The rows stream
   * from SQLite while PostgreSQL parses the previous chunks (its own process, another core).
   */
  private async copy(after: number, through: number, mayExist: boolean): Promise<{ rows: number; inserted: number }> {
    const client = this.client;
    if (!client) throw new Error('not connected');
    await client.query('BEGIN');
    try {
      const t0 = performance.now();
      const target = mayExist ? STAGE_TABLE : this.table;
      const counted = { rows: 0 };
      await pipeline(Readable.from(this.lines(after, through, counted)), client.query(copyFrom(`COPY ${target} FROM STDIN`)));
      const t1 = performance.now();
      const inserted = mayExist
        ? ((await client.query(`INSERT INTO ${this.table} SELECT * FROM ${STAGE_TABLE} ON CONFLICT DO NOTHING`)).rowCount ?? 0)
        : counted.rows;
      const t2 = performance.now();
      await client.query('COMMIT');
      this.opts.log('debug', 'pg_forward_batch', {
        rows: counted.rows,
        staged: mayExist,
        copy_ms: Math.round(t1 - t0),
        insert_ms: Math.round(t2 - t1),
        commit_ms: Math.round(performance.now() - t2),
      });
      return { rows: counted.rows, inserted };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if (!mayExist && (err as { code?: string }).code === UNIQUE_VIOLATION) {
        this.uncertainThrough = through;
        return this.copy(after, through, true);
      }
      throw err;
    }
  }

  /** COPY text lines, 1000 rows per chunk (one write per row would cost more than the encoding). */
  private *lines(after: number, through: number, counted: { rows: number }): Generator<string> {
    const store = this.opts.store;
    // hex() in SQLite: cheaper than a Buffer per row and its conversion in JavaScript.
    const rows = this.reader
      .prepare('SELECT rowid, bus, seq, ts, id, flags, hex(data), length(data), origin, label FROM frames WHERE rowid > ? AND rowid <= ? ORDER BY rowid')
      .raw()
      .iterate(after, through) as IterableIterator<Row>;
    const prefix = `${this.opts.store.siteId}\t${copyText(this.opts.hostname)}\t`;
    let chunk = '';
    let n = 0;
    let second = -1;
    let secondText = '';
    for (const [, bus, seq, ts, id, flags, hexData, dataLength, origin, label] of rows) {
      let busName = this.busNames.get(bus);
      if (busName === undefined) {
        this.busNames = new Map(store.buses().map((b) => [b.id, copyText(b.name)]));
        busName = this.busNames.get(bus) ?? `bus${bus}`;
      }
      let labelName = '\\N';
      if (label !== null) {
        let name = this.labelNames.get(label);
        if (name === undefined) {
          this.labelNames = new Map([...store.labels()].map(([k, v]) => [k, copyText(v)]));
          name = this.labelNames.get(label) ?? '';
        }
        labelName = name;
      }
      const tsUs = ts + store.tsBaseUs;
      // Frames come in time order: format the date part once per second.
      const sec = Math.floor(tsUs / 1e6);
      if (sec !== second) {
        second = sec;
        secondText = new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
      }
      const direction = (flags & DIRECTION_MASK) >> DIRECTION_SHIFT;
      const rtr = (flags & FLAG_RTR) !== 0;
      const dlc = rtr ? (flags >> RTR_DLC_SHIFT) & 0x0f : lengthToDlc(dataLength);
      chunk +=
        `${prefix}${busName}\t${seq}\t${secondText}.${String(tsUs - sec * 1e6).padStart(6, '0')}+00\t${id}\t` +
        `${bool(flags & FLAG_EFF)}\t${bool(flags & FLAG_RTR)}\t${bool(flags & FLAG_ERR)}\t${bool(flags & FLAG_FD)}\t${bool(flags & FLAG_BRS)}\t${bool(flags & FLAG_ESI)}\t` +
        `${dlc}\t\\\\x${hexData}\t${DIRECTION_TEXT[direction]}\t${direction === DIR_TX ? labelName : '\\N'}\t${origin ?? '\\N'}\t${direction === DIR_REFUSED ? labelName : '\\N'}\n`;
      counted.rows++;
      if (++n === 1000) {
        yield chunk;
        chunk = '';
        n = 0;
      }
    }
    if (chunk) yield chunk;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}

/** COPY text format: backslash, tab and newlines must be escaped. */
function copyText(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
