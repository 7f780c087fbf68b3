// Pure decoder of Ampio state broadcasts: a frame in, the values it carries out, driven by
// the rows of decode-table.ts. Never throws on any frame (a property test holds it to that).
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, type CanFrame } from '../core/frame.js';
import { type DecodeRow, ROW_BY_TYPE, SATEL_RESPONSES } from './decode-table.js';
import type { DecodedValue, DecodeResult, StateData } from './types.js';

/** State broadcasts start with this byte (ampio.py: _STATE_FLAG). */
export const STATE_FLAG = 0xfe;
/** SATEL responses start `10 EF` (ampio.py: _STATE_SATEL_FLAG, _decode_satel_status). */
export const SATEL_FLAG = 0x10;
export const SATEL_RESPONSE_TYPE = 0xef;
/** Commands go to this id (aioampio/controllers/base.py: CTRL_CAN_ID); never a state broadcast. */
export const COMMAND_CAN_ID = 0x0f000000;

/**
 * The state type of an Ampio broadcast (0..255), or -1 when the frame is not one: not
 * extended, RTR, an error frame, a command, or data not starting `FE <type>` / `10 EF xx`.
 */
export function stateTypeOf(frame: CanFrame): number {
  const id = frame.id;
  if ((id & CAN_EFF_FLAG) === 0 || (id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) !== 0) return -1;
  const d = frame.data;
  if (d.length < 2) return -1;
  if (d[0] === STATE_FLAG) return (id & CAN_EFF_MASK) === COMMAND_CAN_ID ? -1 : d[1];
  if (d[0] === SATEL_FLAG && d[1] === SATEL_RESPONSE_TYPE && d.length === 3) return SATEL_RESPONSE_TYPE;
  return -1;
}

/** The sender's address: the 29-bit id. */
export const moduleOf = (frame: CanFrame): number => (frame.id & CAN_EFF_MASK) >>> 0;

/** Decodes one frame; null when it is not an Ampio state broadcast. */
export function decodeFrame(frame: CanFrame): DecodeResult | null {
  const type = stateTypeOf(frame);
  if (type < 0) return null;
  const module = moduleOf(frame);
  if (type === SATEL_RESPONSE_TYPE && frame.data[0] === SATEL_FLAG) {
    const status = frame.data[2];
    const response = SATEL_RESPONSES.get(status) ?? (status >= 0x80 && status <= 0x8f ? 'other error' : 'unknown');
    return { module, type, status: 'decoded', values: [{ kind: 'response', channel: 1, value: { status, response }, unit: null }] };
  }
  const row = ROW_BY_TYPE[type];
  if (!row) return { module, type, status: 'unknown', values: [] };
  const values = decodeRow(row, frame.data);
  return { module, type, status: values.length === 0 ? 'truncated' : 'decoded', values };
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * The values of `row` in `d`. Series stop at the first value the frame is too short for
 * (aioampio's Repeat with sparse=False and its bit blocks do the same), so a short frame
 * yields its leading values; a record needs all its bytes or yields nothing.
 */
export function decodeRow(row: DecodeRow, d: Uint8Array): DecodedValue[] {
  const out: DecodedValue[] = [];
  const unit = row.unit ?? null;
  forEachValue(
    row,
    d,
    (channel, value) => void out.push({ kind: row.kind, channel, value, unit: typeof value === 'object' && row.shape !== 'heating' ? null : unit }),
  );
  return out;
}

/**
 * Calls `sink` with each value of `row` in `d` (channel, value); returns how many. The
 * tap's path: no array and, for numbers and bits, no object per value.
 */
export function forEachValue(row: DecodeRow, d: Uint8Array, sink: (channel: number, value: StateData) => void): number {
  switch (row.shape) {
    case 'bits': {
      const n = Math.min(row.count, (d.length - 2) * 8);
      for (let i = 0; i < n; i++) sink(row.first + i, ((d[2 + (i >> 3)] >> (i & 7)) & 1) === 1);
      return Math.max(0, n);
    }
    case 'u8': {
      const n = Math.min(row.count, d.length - 2);
      for (let i = 0; i < n; i++) sink(row.first + i, scale(row, d[2 + i]));
      return Math.max(0, n);
    }
    case 'u16': {
      const n = Math.min(row.count, (d.length - 2) >> 1);
      for (let i = 0; i < n; i++) sink(row.first + i, scale(row, d[2 + 2 * i] | (d[3 + 2 * i] << 8)));
      return Math.max(0, n);
    }
    case 'temperature':
      // (u16 LE − 1000) / 10; dividing by 10 gives the nearest double to the 1-decimal value.
      if (d.length < 4) return 0;
      sink(1, ((d[2] | (d[3] << 8)) - 1000) / 10);
      return 1;
    case 'diagnostics':
      // voltage = byte2 × 0.2 = (byte2 × 2) / 10, exact to one decimal; temperature = byte3 − 100.
      if (d.length < 4) return 0;
      sink(1, { voltage: (d[2] * 2) / 10, temperature: d[3] - 100 });
      return 1;
    case 'rgb':
      if (d.length < 6) return 0;
      sink(1, { red: d[2], green: d[3], blue: d[4], white: d[5] });
      return 1;
    case 'datetime':
      if (d.length < 8) return 0;
      sink(1, { year: 2000 + d[2], month: d[3] & 0x0f, day: d[4] & 0x1f, weekday: d[5] & 0x07, daytime: d[6] & 0x80, hour: d[6] & 0x1f, minute: d[7] & 0x7f });
      return 1;
    case 'heating': {
      if (d.length < 8) return 0;
      // ampio.py _make_heating_zone: U8 current ×0.1 at 2, U8 target ×0.1 at 4, I8 (s8 − 100) × 0.1 at 6, flags at 7.
      const diffRaw = d[6] > 127 ? d[6] - 256 : d[6];
      sink(row.first, {
        current_temperature: d[2] / 10,
        target_temperature: d[4] / 10,
        temperature_diff: round((diffRaw - 100) / 10, 1),
        active: (d[7] & 0x01) !== 0,
        heating: (d[7] & 0x02) !== 0,
        day_mode: (d[7] & 0x04) !== 0,
        mode: (d[7] & 0x70) >> 4,
      });
      return 1;
    }
  }
}

function scale(row: DecodeRow, raw: number): number {
  const v = raw + (row.add ?? 0);
  return row.div ? round(v / row.div, 1) : v;
}
