// The Ampio state broadcasts we decode, one row per state type: data, not code. A state
// broadcast is an extended frame whose id is the sender's address and whose data starts
// `FE <type>`; values start at byte 2.
//
// Source of every row: kstaniek/aioampio, aioampio/codec/ampio.py (the StateType enum, the
// _DECODER_TABLE, _HEATING_MAP and _SATEL_BIT_SETS tables and the single decoders), checked
// against the vectors in tests/test_ampio_codecs_smoke.py (KNOWN_VECTORS). "ampio.py:X" below
// names the decoder or table entry in that file; our code is our own.
import type { StateKind } from './types.js';

/** How the bytes of a row turn into values. */
export type Shape =
  /** `count` bits from byte 2, LSB first; channel = first + bit number. */
  | 'bits'
  /** `count` u8 values from byte 2; value = (raw + add) / div. */
  | 'u8'
  /** `count` little-endian u16 values from byte 2; value = (raw + add) / div. */
  | 'u16'
  /** One u16 LE at byte 2: (raw − 1000) / 10 °C. */
  | 'temperature'
  /** byte 2 × 0.2 V, byte 3 − 100 °C. */
  | 'diagnostics'
  /** bytes 2–5: red, green, blue, white. */
  | 'rgb'
  /** bytes 2–7: year − 2000, month, day, weekday, daytime|hour, minute. */
  | 'datetime'
  /** bytes 2, 4, 6, 7 of a heating zone. */
  | 'heating';

export interface DecodeRow {
  type: number;
  kind: StateKind;
  shape: Shape;
  /** First channel the row fills. */
  first: number;
  /** Channels a full frame carries. */
  count: number;
  add?: number;
  div?: number;
  unit?: string;
  /** Where the fact comes from. */
  source: string;
}

const A = 'kstaniek/aioampio aioampio/codec/ampio.py';

function bits(type: number, kind: StateKind, first: number, count: number, where: string): DecodeRow {
  return { type, kind, shape: 'bits', first, count, source: `${A}: ${where}` };
}

function heatingZones(): DecodeRow[] {
  // C9..D8 = zones 1..16 (ampio.py: StateType.HEATING_ZONE_1..16, _HEATING_MAP, _make_heating_zone).
  const rows: DecodeRow[] = [];
  for (let zone = 1; zone <= 16; zone++) {
    rows.push({ type: 0xc8 + zone, kind: 'heating', shape: 'heating', first: zone, count: 1, unit: '°C', source: `${A}: _HEATING_MAP HEATING_ZONE_${zone}` });
  }
  return rows;
}

export const DECODE_ROWS: readonly DecodeRow[] = [
  // ampio.py: _decode_diagnostics, U8 voltage ×0.2 (1 decimal), U8 temperature −100. Vector "FE 4F 39 82" → 11.4 V, 30 °C.
  { type: 0x4f, kind: 'diagnostics', shape: 'diagnostics', first: 1, count: 1, source: `${A}: _decode_diagnostics` },
  // ampio.py: _decode_temperature, U16 LE at 2, (raw − 1000) × 0.1 °C. Vector "FE 06 D9 04 …" → 24.1 °C.
  { type: 0x06, kind: 'temperature', shape: 'temperature', first: 1, count: 1, unit: '°C', source: `${A}: _decode_temperature` },
  // ampio.py: StateType.TEMPERATURE_INT = 0x05 is named there but has no decoder; the issue
  // (#23) gives it the layout of 06. Kept under its own kind so it never overwrites temperature.1.
  {
    type: 0x05,
    kind: 'temperature_int',
    shape: 'temperature',
    first: 1,
    count: 1,
    unit: '°C',
    source: `${A}: StateType.TEMPERATURE_INT (layout of 06 per issue #23)`,
  },
  // ampio.py: _DECODER_TABLE AOUT_1..3 (_make_u8_repeat_series aout 1–6, 7–12, 13–18).
  { type: 0x0c, kind: 'aout', shape: 'u8', first: 1, count: 6, source: `${A}: _DECODER_TABLE AOUT_1` },
  { type: 0x0d, kind: 'aout', shape: 'u8', first: 7, count: 6, source: `${A}: _DECODER_TABLE AOUT_2` },
  { type: 0x0e, kind: 'aout', shape: 'u8', first: 13, count: 6, source: `${A}: _DECODER_TABLE AOUT_3` },
  // ampio.py: _DECODER_TABLE BINOUT (_make_bitblock 1–48 "binout").
  bits(0x0f, 'binout', 1, 48, '_DECODER_TABLE BINOUT'),
  // ampio.py: _decode_datetime (U8 year +2000, month &0x0F, day &0x1F, weekday &0x07, daytime &0x80, hour &0x1F, minute &0x7F).
  { type: 0x10, kind: 'datetime', shape: 'datetime', first: 1, count: 1, source: `${A}: _decode_datetime` },
  // ampio.py: _SATEL_BIT_SETS (_make_bitblock 1–_MAX_SATEL_ZONES = 8).
  bits(0x19, 'armed', 1, 8, '_SATEL_BIT_SETS SATEL_ARMED'),
  bits(0x1a, 'alarm', 1, 8, '_SATEL_BIT_SETS SATEL_ALARM'),
  // ampio.py: _DECODER_TABLE BIN_1..3 and BOUT_1..3 (_make_bitblock 1–48, 49–96, 97–144).
  bits(0x1b, 'bin', 1, 48, '_DECODER_TABLE BIN_1'),
  bits(0x1c, 'bin', 49, 48, '_DECODER_TABLE BIN_2'),
  bits(0x1d, 'bin', 97, 48, '_DECODER_TABLE BIN_3'),
  bits(0x1e, 'bout', 1, 48, '_DECODER_TABLE BOUT_1'),
  bits(0x1f, 'bout', 49, 48, '_DECODER_TABLE BOUT_2'),
  bits(0x20, 'bout', 97, 48, '_DECODER_TABLE BOUT_3'),
  // ampio.py: _DECODER_TABLE S16B10000_1..5 (_make_u16_repeat_series add −10000, ×0.1, 1 decimal; 3 per frame).
  { type: 0x21, kind: 's16b10000', shape: 'u16', first: 1, count: 3, add: -10000, div: 10, source: `${A}: _DECODER_TABLE S16B10000_1` },
  { type: 0x22, kind: 's16b10000', shape: 'u16', first: 4, count: 3, add: -10000, div: 10, source: `${A}: _DECODER_TABLE S16B10000_2` },
  { type: 0x23, kind: 's16b10000', shape: 'u16', first: 7, count: 3, add: -10000, div: 10, source: `${A}: _DECODER_TABLE S16B10000_3` },
  { type: 0x24, kind: 's16b10000', shape: 'u16', first: 10, count: 3, add: -10000, div: 10, source: `${A}: _DECODER_TABLE S16B10000_4` },
  { type: 0x25, kind: 's16b10000', shape: 'u16', first: 13, count: 3, add: -10000, div: 10, source: `${A}: _DECODER_TABLE S16B10000_5` },
  // ampio.py: _SATEL_BIT_SETS SATEL_BREACHED, SATEL_ARMING, SATEL_ARMING_10S.
  bits(0x38, 'breached', 1, 8, '_SATEL_BIT_SETS SATEL_BREACHED'),
  bits(0x39, 'arming', 1, 8, '_SATEL_BIT_SETS SATEL_ARMING'),
  bits(0x3a, 'arming_10s', 1, 8, '_SATEL_BIT_SETS SATEL_ARMING_10S'),
  // ampio.py: _DECODER_TABLE S16B_1..3 (_make_u16_repeat_series, raw u16 LE; 3 per frame). Vector "FE 44 2C 00 D6 03 72 00" → 44, 982, 114.
  { type: 0x44, kind: 's16b', shape: 'u16', first: 1, count: 3, source: `${A}: _DECODER_TABLE S16B_1` },
  { type: 0x45, kind: 's16b', shape: 'u16', first: 4, count: 3, source: `${A}: _DECODER_TABLE S16B_2` },
  { type: 0x46, kind: 's16b', shape: 'u16', first: 7, count: 3, source: `${A}: _DECODER_TABLE S16B_3` },
  // ampio.py: _decode_rgb (U8 red 2, green 3, blue 4, white 5).
  { type: 0x49, kind: 'rgb', shape: 'rgb', first: 1, count: 1, source: `${A}: _decode_rgb` },
  // ampio.py: _DECODER_TABLE FLAG (_make_bitblock 1–32) and HEATING_ZONE_SUMMARY (_make_bitblock 1–16 "zone").
  bits(0x80, 'flag', 1, 32, '_DECODER_TABLE FLAG'),
  bits(0xc8, 'zone', 1, 16, '_DECODER_TABLE HEATING_ZONE_SUMMARY'),
  ...heatingZones(),
];

/** The SATEL response frame `10 EF <status>` (ampio.py: _decode_satel_status, SATEL_RESPONSE_MAP). */
export const SATEL_RESPONSE_SOURCE = `${A}: _decode_satel_status`;

/** SATEL response codes → text (ampio.py: SATEL_RESPONSE_MAP; 0x80–0x8F "other error"). Our wording. */
export const SATEL_RESPONSES: ReadonlyMap<number, string> = new Map([
  [0x00, 'OK'],
  [0x01, 'requesting user code not found'],
  [0x02, 'no access'],
  [0x03, 'selected user does not exist'],
  [0x04, 'selected user already exists'],
  [0x05, 'wrong code or code already exists'],
  [0x06, 'telephone code already exists'],
  [0x07, 'changed code is the same'],
  [0x08, 'other error'],
  [0x11, 'cannot arm, force arm possible'],
  [0x12, 'cannot arm'],
  [0xff, 'command accepted'],
]);

/** Row by type byte: one array look-up on the decode path. */
export const ROW_BY_TYPE: ReadonlyArray<DecodeRow | undefined> = (() => {
  const table: Array<DecodeRow | undefined> = new Array(256).fill(undefined);
  for (const row of DECODE_ROWS) {
    if (table[row.type]) throw new Error(`ampio decode table: type 0x${row.type.toString(16)} twice`);
    table[row.type] = row;
  }
  return table;
})();
