// The capture store's on-disk layout. Pure data: SQL text, the row's flag bits and the
// conversions between a stored row and a CanFrame.
//
// Why this shape: an SD card wears with every page written, so a row is kept near 37
// bytes (measured: 1 M Ampio frames ≈ 37 MB) and the table has no secondary index:
// - the rowid (insertion order, roughly time order) is the only key; a time range is
//   found by bisecting rowids on `ts` (frames arrive in time order within milliseconds);
// - `ts` is µs relative to `meta.ts_base_us`, which fits 6 bytes for 4 years instead of 8;
// - EFF/RTR/ERR/FD/BRS/ESI and the direction share one small `flags` integer (an RX frame
//   with an extended ID stores flags = 1, which SQLite keeps in zero bytes);
// - bus, protocol and refusal reason are small integers into dictionary tables.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, CANFD_BRS, CANFD_ESI, type CanFrame } from '../core/frame.js';

/** PRAGMA application_id: "ABCS" (ampio-bridge capture store). Anything else is a foreign file. */
export const APPLICATION_ID = 0x41424353;
export const SCHEMA_VERSION = 1;
export const SQLITE_HEADER = 'SQLite format 3\0';

export const FLAG_EFF = 0x01;
export const FLAG_RTR = 0x02;
export const FLAG_ERR = 0x04;
export const FLAG_FD = 0x08;
export const FLAG_BRS = 0x10;
export const FLAG_ESI = 0x20;
export const DIRECTION_SHIFT = 6;
export const DIRECTION_MASK = 0xc0;
/** An RTR frame carries no data; its requested DLC lives in bits 8-11. */
export const RTR_DLC_SHIFT = 8;

export const DIRECTIONS = ['rx', 'tx', 'refused'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const DIR_RX = 0;
export const DIR_TX = 1;
export const DIR_REFUSED = 2;

/** Dictionary kinds of the `labels` table. */
export const LABEL_PROTOCOL = 1;
export const LABEL_REASON = 2;

export const CREATE_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE buses (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, last_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE labels (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name));
CREATE TABLE frames (
  bus INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  id INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  data BLOB NOT NULL,
  origin INTEGER,
  label INTEGER
);
CREATE TABLE forward_state (target TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL, lost INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIEW frames_view AS
  SELECT f.rowid AS rowid, b.name AS bus, f.seq AS seq,
         f.ts + (SELECT value FROM meta WHERE key = 'ts_base_us') AS ts_us,
         f.id AS id, f.flags AS flags,
         CASE f.flags >> 6 WHEN 0 THEN 'rx' WHEN 1 THEN 'tx' ELSE 'refused' END AS direction,
         hex(f.data) AS data, f.origin AS session, l.name AS label
  FROM frames f JOIN buses b ON b.id = f.bus LEFT JOIN labels l ON l.id = f.label;
`;

/** One stored frame, as read back. */
export interface CapturedFrame {
  rowid: number;
  bus: string;
  seq: number;
  /** µs since the Unix epoch */
  tsUs: number;
  frame: CanFrame;
  direction: Direction;
  /** Session id of a tx/refused frame (0 = the bridge itself), else null. */
  session: number | null;
  /** Protocol of a tx frame, reason of a refused one. */
  label: string | null;
}

/** The flags column of a frame seen in `direction`. */
export function flagsOf(frame: CanFrame, direction: number): number {
  let flags = direction << DIRECTION_SHIFT;
  if ((frame.id & CAN_EFF_FLAG) !== 0) flags |= FLAG_EFF;
  if ((frame.id & CAN_ERR_FLAG) !== 0) flags |= FLAG_ERR;
  if ((frame.id & CAN_RTR_FLAG) !== 0) flags |= FLAG_RTR | ((frame.len & 0x0f) << RTR_DLC_SHIFT);
  if (frame.fd) {
    flags |= FLAG_FD;
    if ((frame.fdFlags & CANFD_BRS) !== 0) flags |= FLAG_BRS;
    if ((frame.fdFlags & CANFD_ESI) !== 0) flags |= FLAG_ESI;
  }
  return flags;
}

/** The `id` column: the arbitration ID (error class for error frames), flags in `flags`. */
export function storedId(frame: CanFrame): number {
  return (frame.id & (CAN_EFF_FLAG | CAN_ERR_FLAG)) !== 0 ? frame.id & CAN_EFF_MASK : frame.id & CAN_SFF_MASK;
}

/** Rebuilds the SocketCAN-style frame from the stored columns. */
export function frameFromRow(id: number, flags: number, data: Uint8Array, tsUs: number): CanFrame {
  let canId = id >>> 0;
  if (flags & FLAG_EFF) canId = (canId | CAN_EFF_FLAG) >>> 0;
  if (flags & FLAG_ERR) canId = (canId | CAN_ERR_FLAG) >>> 0;
  const rtr = (flags & FLAG_RTR) !== 0;
  if (rtr) canId = (canId | CAN_RTR_FLAG) >>> 0;
  const fd = (flags & FLAG_FD) !== 0;
  return {
    id: canId,
    len: rtr ? (flags >> RTR_DLC_SHIFT) & 0x0f : data.length,
    data: rtr ? new Uint8Array(0) : data,
    fd,
    fdFlags: fd ? (flags & FLAG_BRS ? CANFD_BRS : 0) | (flags & FLAG_ESI ? CANFD_ESI : 0) : 0,
    timestamp: tsUs / 1000,
  };
}

export function directionOf(flags: number): Direction {
  return DIRECTIONS[(flags & DIRECTION_MASK) >> DIRECTION_SHIFT] ?? 'refused';
}
