// Text forms of captured frames: candump's log format (replayable with canplayer, read
// by log2asc/log2long, SavvyCAN, python-can) and SavvyCAN's GVRET CSV. Pure.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK } from '../core/frame.js';
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
