// Text forms of captured frames: candump's log format (replayable with canplayer, read
// by log2asc/log2long, SavvyCAN, python-can) and SavvyCAN's GVRET CSV. Pure.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from '../core/frame.js';
import type { CapturedFrame } from './schema.js';

const hex = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex').toUpperCase();

/**
 * `(1764470040.123456) can0 18EF1234#0102030405060708`, as `candump -l` writes it:
 * 8 hex digits for extended IDs and error frames (with the error flag), 3 for standard;
 * `#R` (+ DLC) for remote requests; `##<flags>` for CAN FD.
 */
export function candumpLine(c: CapturedFrame): string {
  const f = c.frame;
  const sec = Math.floor(c.tsUs / 1e6);
  const usec = String(Math.round(c.tsUs - sec * 1e6)).padStart(6, '0');
  let id: string;
  if ((f.id & CAN_ERR_FLAG) !== 0) id = ((f.id & (CAN_EFF_MASK | CAN_ERR_FLAG)) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  else if ((f.id & CAN_EFF_FLAG) !== 0) id = (f.id & CAN_EFF_MASK).toString(16).toUpperCase().padStart(8, '0');
  else id = (f.id & CAN_SFF_MASK).toString(16).toUpperCase().padStart(3, '0');
  let body: string;
  if ((f.id & CAN_RTR_FLAG) !== 0) body = `#R${f.len > 0 ? f.len.toString(16).toUpperCase() : ''}`;
  else if (f.fd) body = `##${(f.fdFlags & 0x0f).toString(16).toUpperCase()}${hex(f.data)}`;
  else body = `#${hex(f.data)}`;
  return `(${sec}.${usec}) ${c.bus} ${id}${body}`;
}

export interface ParsedLogLine {
  tsUs: number;
  bus: string;
  frame: CanFrame;
}

/** Reads one `candump -l` line back (the tests' round trip; also a check of what canplayer reads). */
export function parseCandumpLine(line: string): ParsedLogLine | null {
  const m = /^\((\d+)\.(\d{6})\)\s+(\S+)\s+([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(#[0-9A-Fa-f])?(R[0-9A-Fa-f]?|[0-9A-Fa-f]*)\s*$/.exec(line);
  if (!m) return null;
  const tsUs = Number(m[1]) * 1e6 + Number(m[2]);
  const idText = m[4];
  let id = Number.parseInt(idText, 16) >>> 0;
  if (idText.length === 8 && (id & CAN_ERR_FLAG) === 0) id = (id | CAN_EFF_FLAG) >>> 0;
  const fd = m[5] !== undefined;
  if (m[6].startsWith('R')) {
    const len = m[6].length > 1 ? Number.parseInt(m[6].slice(1), 16) : 0;
    return { tsUs, bus: m[3], frame: { id: (id | CAN_RTR_FLAG) >>> 0, len, data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: tsUs / 1000 } };
  }
  const data = Uint8Array.from(Buffer.from(m[6], 'hex'));
  return { tsUs, bus: m[3], frame: { id, len: data.length, data, fd, fdFlags: fd ? Number.parseInt(m[5].slice(1), 16) : 0, timestamp: tsUs / 1000 } };
}

export const GVRET_CSV_HEADER = 'Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8';

/**
 * One SavvyCAN "GVRET" CSV row: µs timestamp, 8-digit hex ID, Extended, Rx/Tx, bus
 * number, length, then each data byte followed by a comma (as SavvyCAN writes it).
 * Error frames have no form here and are skipped by the caller.
 */
export function gvretCsvLine(c: CapturedFrame, busNumber: number): string {
  const f = c.frame;
  const extended = (f.id & CAN_EFF_FLAG) !== 0;
  const id = (extended ? f.id & CAN_EFF_MASK : f.id & CAN_SFF_MASK).toString(16).toUpperCase().padStart(8, '0');
  let bytes = '';
  for (const b of f.data) bytes += `${b.toString(16).toUpperCase().padStart(2, '0')},`;
  return `${Math.round(c.tsUs)},${id},${extended},${c.direction === 'rx' ? 'Rx' : 'Tx'},${busNumber},${f.len},${bytes}`;
}
