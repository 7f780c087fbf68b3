// Reads a `candump -l` line back into a frame: the oracle of the capture export's round-trip
// tests (and a check that what the export writes is what canplayer reads). Written from
// candump's log format, not from src/capture/export.ts.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, type CanFrame } from '../../src/core/frame.js';

export interface ParsedLogLine {
  /** `candump -x` marker: R received, T transmitted by this host; undefined without one. */
  marker?: 'R' | 'T';
  tsUs: number;
  bus: string;
  frame: CanFrame;
}

export function parseCandumpLine(line: string): ParsedLogLine | null {
  const m = /^\((\d+)\.(\d{6})\)\s+(\S+)\s+([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(#[0-9A-Fa-f])?(R[0-9A-Fa-f]?|[0-9A-Fa-f]*)(?: ([RT]))?\s*$/.exec(line);
  if (!m) return null;
  const marker = m[7] as 'R' | 'T' | undefined;
  const tsUs = Number(m[1]) * 1e6 + Number(m[2]);
  const idText = m[4];
  let id = Number.parseInt(idText, 16) >>> 0;
  if (idText.length === 8 && (id & CAN_ERR_FLAG) === 0) id = (id | CAN_EFF_FLAG) >>> 0;
  const fd = m[5] !== undefined;
  if (m[6].startsWith('R')) {
    const len = m[6].length > 1 ? Number.parseInt(m[6].slice(1), 16) : 0;
    return { marker, tsUs, bus: m[3], frame: { id: (id | CAN_RTR_FLAG) >>> 0, len, data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: tsUs / 1000 } };
  }
  const data = Uint8Array.from(Buffer.from(m[6], 'hex'));
  return { marker, tsUs, bus: m[3], frame: { id, len: data.length, data, fd, fdFlags: fd ? Number.parseInt(m[5].slice(1), 16) : 0, timestamp: tsUs / 1000 } };
}
