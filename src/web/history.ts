// The capture store as the web page reads it: a search (time window, bus, ID/mask) a page at
// a time, newest first, and every export format the bridge has (src/capture/formats/) as
// downloads. The store is opened read-only (a WAL reader: the capture service keeps
// writing, never waits for us) on first use, and only when capture is on.
import type { Writable } from 'node:stream';
import type { ExportFormat } from '../capture/formats/types.js';
import type { CaptureStore } from '../capture/sqlite-store.js';
import type { FrameFilter } from '../capture/store-query.js';

export const PAGE_SIZE = 100;
/** Deepest page a search walks to (each page is found by skipping the newer ones). */
export const MAX_OFFSET = 100_000;

import { type CaptureRow, captureRow } from '../capture/frame-row.js';

export { type CaptureRow, captureRow };

export interface SearchQuery {
  filter: FrameFilter;
  offset: number;
}

export interface SearchPage {
  rows: CaptureRow[];
  offset: number;
  /** Whether older frames match beyond this page. */
  more: boolean;
}

/** What a person picks from: each export format `capture export --format` writes, named for who reads it. */
export const EXPORT_TITLES: Record<ExportFormat, string> = {
  candump: 'candump log (canplayer, SavvyCAN, python-can)',
  'gvret-csv': 'SavvyCAN GVRET CSV',
  asc: 'Vector ASC (CANalyzer, CANoe, python-can)',
  pcapng: 'PCAPNG (Wireshark)',
  pcap: 'PCAP (Wireshark, tcpdump)',
};

interface Modules {
  store: typeof import('../capture/sqlite-store.js');
  query: typeof import('../capture/store-query.js');
  sqlite: typeof import('../capture/sqlite-binding.js');
  export: typeof import('../capture/export-stream.js');
}

export class CaptureReader {
  private store: CaptureStore | null = null;
  private mods: Modules | null = null;

  constructor(readonly path: string) {}

  private async open(): Promise<{ store: CaptureStore; mods: Modules }> {
    if (!this.mods) {
      this.mods = {
        store: await import('../capture/sqlite-store.js'),
        query: await import('../capture/store-query.js'),
        sqlite: await import('../capture/sqlite-binding.js'),
        export: await import('../capture/export-stream.js'),
      };
    }
    if (!this.store) this.store = this.mods.store.CaptureStore.open(await this.mods.sqlite.loadSqlite(), { path: this.path, readonly: true });
    return { store: this.store, mods: this.mods };
  }

  /** The text forms people type (2h, 02:14, a date) → a filter; throws with a message for the page. */
  async parse(params: URLSearchParams, now: number): Promise<SearchQuery> {
    const { mods } = await this.open();
    const filter: FrameFilter = {};
    const text = (k: string): string => (params.get(k) ?? '').trim();
    if (text('since')) filter.sinceUs = mods.query.parseTimeArg(text('since'), now) * 1000;
    if (text('until')) filter.untilUs = mods.query.parseTimeArg(text('until'), now) * 1000;
    if (text('bus'))
      filter.buses = text('bus')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (text('id')) filter.id = mods.query.parseIdFilter(text('id'));
    const offset = Number(text('offset') || '0');
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw new Error(`offset must be a whole number up to ${MAX_OFFSET}`);
    return { filter, offset };
  }

  /** One page, newest first. */
  async search(q: SearchQuery): Promise<SearchPage> {
    const { store, mods } = await this.open();
    const rows: CaptureRow[] = [];
    let skipped = 0;
    let more = false;
    for (const c of mods.query.queryFrames(store, { ...q.filter, newestFirst: true })) {
      if (skipped < q.offset) {
        skipped++;
        continue;
      }
      if (rows.length === PAGE_SIZE) {
        more = true;
        break;
      }
      rows.push(captureRow(c));
    }
    return { rows, offset: q.offset, more };
  }

  /**
   * Writes the frames of `q` (oldest first, rx and tx: what was on the bus) to `out` as
   * `format`, through the export encoders `capture export` uses; pulled only as fast as the
   * browser takes the bytes. Rejects when the download is cancelled.
   */
  async exportTo(q: SearchQuery, format: ExportFormat, out: Writable): Promise<{ written: number; skipped: number }> {
    const { store, mods } = await this.open();
    const buses = store.buses().map((b) => b.name);
    return mods.export.writeExport(format, mods.query.queryFrames(store, { ...q.filter, directions: ['rx', 'tx'] }), out, { buses });
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}
