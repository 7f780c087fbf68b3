// A stored frame as JSON rows show it (`capture query --json` and the web page's history):
// one shape, so the two agree.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG } from '../core/frame.js';
import type { CapturedFrame } from './schema.js';

/** A stored frame in `ampio-bridge capture query --json`'s shape. */
export interface CaptureRow {
  time: string;
  tsUs: number;
  bus: string;
  seq: number;
  direction: string;
  id: number;
  extended: boolean;
  rtr: boolean;
  error: boolean;
  fd: boolean;
  len: number;
  data: string;
  session: number | null;
  protocol?: string | null;
  reason?: string | null;
  /** Who put a received frame on the bus, where the store knows. */
  source?: string | null;
}

export function captureRow(c: CapturedFrame): CaptureRow {
  return {
    time: new Date(c.tsUs / 1000).toISOString(),
    tsUs: c.tsUs,
    bus: c.bus,
    seq: c.seq,
    direction: c.direction,
    id: c.frame.id & 0x1fffffff,
    extended: (c.frame.id & CAN_EFF_FLAG) !== 0,
    rtr: (c.frame.id & CAN_RTR_FLAG) !== 0,
    error: (c.frame.id & CAN_ERR_FLAG) !== 0,
    fd: c.frame.fd,
    len: c.frame.len,
    data: Buffer.from(c.frame.data).toString('hex'),
    session: c.session,
    ...(c.direction === 'tx' ? { protocol: c.label } : c.direction === 'refused' ? { reason: c.label } : c.label ? { source: c.label } : {}),
  };
}
