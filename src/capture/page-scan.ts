// Reads rows straight out of the pages of an SQLite file, without SQLite: the last resort
// of `capture recover` for rows that sit below a damaged interior page (SQLite cannot reach
// them through the b-tree, yet their leaf pages are intact). Pure: bytes in, rows out.
//
// Facts from the SQLite file format (https://www.sqlite.org/fileformat2.html): "The Database
// Header" (100 bytes on page 1; page size at offset 16, where 1 means 65536); "B-tree Pages"
// (type byte 0x0D = table leaf, cell count at +3, the cell pointer array after the 8-byte
// leaf header; a table-leaf cell is payload length varint, rowid varint, payload; payloads
// longer than usable size - 35 spill to overflow pages); "Record Format" (header size
// varint, serial types, values) and the big-endian varint of 1..9 bytes (the 9th byte
// contributes all 8 bits).

export type SqlValue = number | string | Uint8Array | null;

export interface LeafRow {
  rowid: number;
  values: SqlValue[];
}

/** Page size from the header (4096 when the header is unreadable: what every capture store uses). */
export function pageSizeOf(header: Uint8Array): number {
  if (header.length >= 18 && new TextDecoder('latin1').decode(header.subarray(0, 15)) === 'SQLite format 3') {
    const raw = (header[16] << 8) | header[17];
    const size = raw === 1 ? 65536 : raw;
    if (size >= 512 && size <= 65536 && (size & (size - 1)) === 0) return size;
  }
  return 4096;
}

/** A varint at `at`: [value, bytes used]; null when it runs past `end`. */
function varint(b: Uint8Array, at: number, end: number): [number, number] | null {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= end) return null;
    const byte = b[at + i];
    if (i === 8) return [v * 256 + byte, 9];
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, i + 1];
  }
  return null;
}

/** Big-endian two's complement of `n` (1, 2, 3, 4, 6 or 8) bytes. */
function intOf(b: Uint8Array, at: number, n: number): number {
  let u = 0;
  for (let i = 0; i < n; i++) u = u * 256 + b[at + i];
  return b[at] & 0x80 ? u - 2 ** (8 * n) : u;
}

const INT_BYTES = [0, 1, 2, 3, 4, 6, 8];

/** One record ("Record Format"); null when it does not parse within [at, end). */
function record(b: Uint8Array, at: number, end: number): SqlValue[] | null {
  const h = varint(b, at, end);
  if (!h) return null;
  const [headerSize, used] = h;
  if (headerSize < used || at + headerSize > end) return null;
  const types: number[] = [];
  for (let p = at + used; p < at + headerSize; ) {
    const t = varint(b, p, at + headerSize);
    if (!t) return null;
    types.push(t[0]);
    p += t[1];
  }
  const values: SqlValue[] = [];
  let p = at + headerSize;
  for (const t of types) {
    if (t === 0) values.push(null);
    else if (t >= 1 && t <= 6) {
      const n = INT_BYTES[t];
      if (p + n > end) return null;
      values.push(intOf(b, p, n));
      p += n;
    } else if (t === 7) {
      if (p + 8 > end) return null;
      values.push(new DataView(b.buffer, b.byteOffset + p, 8).getFloat64(0));
      p += 8;
    } else if (t === 8 || t === 9) values.push(t - 8);
    else if (t >= 12) {
      const n = (t - (t % 2 === 0 ? 12 : 13)) / 2;
      if (p + n > end) return null;
      const bytes = b.subarray(p, p + n);
      values.push(t % 2 === 0 ? new Uint8Array(bytes) : new TextDecoder().decode(bytes));
      p += n;
    } else return null; // 10, 11: reserved
  }
  return p === end ? values : null;
}

/**
 * The rows of one table-leaf page (page number `pageNo`, 1-based). Cells that do not parse
 * are skipped, and rows that spill to overflow pages too (a capture row never does).
 */
export function tableLeafRows(page: Uint8Array, pageNo: number, usableSize: number): LeafRow[] {
  const h = pageNo === 1 ? 100 : 0;
  if (page.length < h + 8 || page[h] !== 0x0d) return [];
  const cells = (page[h + 3] << 8) | page[h + 4];
  const pointers = h + 8;
  if (pointers + 2 * cells > usableSize) return [];
  const rows: LeafRow[] = [];
  for (let i = 0; i < cells; i++) {
    const off = (page[pointers + 2 * i] << 8) | page[pointers + 2 * i + 1];
    if (off < pointers + 2 * cells || off >= usableSize) continue;
    const len = varint(page, off, usableSize);
    if (!len) continue;
    const id = varint(page, off + len[1], usableSize);
    if (!id) continue;
    const start = off + len[1] + id[1];
    if (len[0] > usableSize - 35 || start + len[0] > usableSize) continue;
    const values = record(page, start, start + len[0]);
    if (values) rows.push({ rowid: id[0], values });
  }
  return rows;
}

/**
 * The first and last rowid of a table-leaf page (cells are in rowid order), read from two
 * cells only: lets a scan skip, cheaply, pages that hold none of the rows it looks for.
 * Null when the page is not a table leaf or those cells do not parse.
 */
export function leafRowidSpan(page: Uint8Array, pageNo: number, usableSize: number): [number, number] | null {
  const h = pageNo === 1 ? 100 : 0;
  if (page.length < h + 8 || page[h] !== 0x0d) return null;
  const cells = (page[h + 3] << 8) | page[h + 4];
  if (cells === 0 || h + 8 + 2 * cells > usableSize) return null;
  const rowidAt = (i: number): number | null => {
    const off = (page[h + 8 + 2 * i] << 8) | page[h + 9 + 2 * i];
    if (off >= usableSize) return null;
    const len = varint(page, off, usableSize);
    return len ? (varint(page, off + len[1], usableSize)?.[0] ?? null) : null;
  };
  const first = rowidAt(0);
  const last = rowidAt(cells - 1);
  return first === null || last === null ? null : [first, last];
}
