// candump's log format, both ways: `(1764470040.123456) can0 18EF1234#0102030405060708 R`,
// as `candump -L -x` writes it (linux-can/can-utils candump.c: in log mode with -x the line
// ends in " T" when the frame was sent by this host, MSG_DONTROUTE, else " R"; canplayer,
// log2asc and log2long of can-utils 2020.11 accept the marker). Pure.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, CANFD_FLAGS_MASK, type CanFrame } from '../../core/frame.js';
import type { Direction } from '../schema.js';
import { type EncoderOptions, type ExportFrame, HEX2, TextEncoderBase } from './types.js';

/**
 * 8 hex digits for extended IDs and error frames (with the error flag), 3 for standard;
 * `#R` (+ DLC) for remote requests; `##<flags>` for CAN FD; then the direction marker
 * (none for a refused frame: it never was on the bus).
 */
export function candumpLine(c: ExportFrame): string {
  const f = c.frame;
  const sec = Math.floor(c.tsUs / 1e6);
  const usec = String(Math.round(c.tsUs - sec * 1e6)).padStart(6, '0');
  let id: string;
  if ((f.id & CAN_ERR_FLAG) !== 0) id = ((f.id & (CAN_EFF_MASK | CAN_ERR_FLAG)) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  else if ((f.id & CAN_EFF_FLAG) !== 0) id = (f.id & CAN_EFF_MASK).toString(16).toUpperCase().padStart(8, '0');
  else id = (f.id & CAN_SFF_MASK).toString(16).toUpperCase().padStart(3, '0');
  let body: string;
  if ((f.id & CAN_RTR_FLAG) !== 0) body = `#R${f.len > 0 ? f.len.toString(16).toUpperCase() : ''}`;
  else {
    let hex = '';
    for (let i = 0; i < f.data.length; i++) hex += HEX2[f.data[i]];
    body = f.fd ? `##${(f.fdFlags & 0x0f).toString(16).toUpperCase()}${hex}` : `#${hex}`;
  }
  const marker = c.direction === 'rx' ? ' R' : c.direction === 'tx' ? ' T' : '';
  return `(${sec}.${usec}) ${c.bus} ${id}${body}${marker}`;
}

export class CandumpEncoder extends TextEncoderBase {
  readonly format = 'candump' as const;
  constructor(_options: EncoderOptions = {}) {
    super();
  }
  add(c: ExportFrame): boolean {
    this.text += `${candumpLine(c)}\n`;
    return true;
  }
}

export interface ParsedFrame {
  tsUs: number;
  bus: string;
  frame: CanFrame;
  /** From the R/T marker; a log without markers holds what the interface received. */
  direction: Exclude<Direction, 'refused'>;
}

const LINE = /^\s*\((\d+)\.(\d{1,9})\)\s+(\S+)\s+([0-9A-Fa-f]{1,8})#(#[0-9A-Fa-f])?(R[0-9A-Fa-f]?|[0-9A-Fa-f]*)(?:\s+([RT]))?\s*$/;

/** One `candump -l` line back to a frame; null for blank lines and anything else. */
export function parseCandumpLine(line: string): ParsedFrame | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const frac = m[2].padEnd(6, '0').slice(0, 6);
  const tsUs = Number(m[1]) * 1e6 + Number(frac);
  const idText = m[4];
  let id = Number.parseInt(idText, 16) >>> 0;
  // can-utils: more than 3 digits is an extended ID, unless it is an error frame.
  if (idText.length > 3 && (id & CAN_ERR_FLAG) === 0) id = ((id & CAN_EFF_MASK) | CAN_EFF_FLAG) >>> 0;
  const direction = m[7] === 'T' ? 'tx' : 'rx';
  const timestamp = tsUs / 1000;
  if (m[6].startsWith('R')) {
    const len = m[6].length > 1 ? Number.parseInt(m[6].slice(1), 16) : 0;
    return {
      tsUs,
      bus: m[3],
      direction,
      frame: { id: (id | CAN_RTR_FLAG) >>> 0, len: Math.min(len, 8), data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp },
    };
  }
  if (m[6].length % 2 !== 0) return null;
  const data = Uint8Array.from(Buffer.from(m[6], 'hex'));
  const fd = m[5] !== undefined;
  if (data.length > (fd ? 64 : 8)) return null;
  return {
    tsUs,
    bus: m[3],
    direction,
    frame: { id, len: data.length, data, fd, fdFlags: fd ? Number.parseInt(m[5].slice(1), 16) & CANFD_FLAGS_MASK : 0, timestamp },
  };
}
