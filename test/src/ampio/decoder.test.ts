// Table tests of the Ampio state decoder: for every state type, frames → values (the
// vectors are the public facts of kstaniek/aioampio tests/test_ampio_codecs_smoke.py, written
// out here as our own cases), both ends of every range, truncated frames, and a property
// test that no frame makes the decoder throw (`npm run fuzz` runs it 10^6 times).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECODE_ROWS } from '../../../src/ampio/decode-table.js';
import { decodeFrame, stateTypeOf } from '../../../src/ampio/decoder.js';
import { makeFrame } from '../../../src/core/frame.js';

const frame = (hex: string, id = 0x1a1e) =>
  makeFrame({
    id,
    extended: true,
    data: hex
      .split(/\s+/)
      .filter(Boolean)
      .map((b) => Number.parseInt(b, 16)),
  });
const decode = (hex: string, id?: number) => decodeFrame(frame(hex, id));
const values = (hex: string) => decode(hex)?.values.map((v) => [`${v.kind}.${v.channel}`, v.value]);

describe('ampio decoder: which frames are state broadcasts', () => {
  it('needs an extended id, FE <type> or 10 EF <status>, and is never the command id', () => {
    expect(stateTypeOf(frame('FE 4F 39 82'))).toBe(0x4f);
    expect(stateTypeOf(makeFrame({ id: 0x123, extended: false, data: [0xfe, 0x4f, 0x39, 0x82] }))).toBe(-1);
    expect(stateTypeOf(makeFrame({ id: 0x1a1e, extended: true, rtr: true, len: 4 }))).toBe(-1);
    expect(stateTypeOf(frame('FE'))).toBe(-1);
    expect(stateTypeOf(frame(''))).toBe(-1);
    expect(stateTypeOf(frame('0A 4F 39 82'))).toBe(-1);
    expect(stateTypeOf(frame('FE 4F 39 82', 0x0f000000))).toBe(-1);
    expect(stateTypeOf(frame('10 EF 07'))).toBe(0xef);
    expect(stateTypeOf(frame('10 EF 07 00'))).toBe(-1);
    expect(stateTypeOf(frame('10 EE 07'))).toBe(-1);
    expect(decode('0A 4F 39 82')).toBeNull();
  });

  it('takes the module address from the 29-bit id', () => {
    expect(decode('FE 4F 39 82', 0x1fffffff)?.module).toBe(0x1fffffff);
    expect(decode('FE 4F 39 82', 0x1879)?.module).toBe(0x1879);
  });

  it('counts unknown types as unknown, with no values', () => {
    for (const t of ['01', '18', '2B', '00', 'FF']) expect(decode(`FE ${t} 00 03 94 90 00 00`)).toMatchObject({ status: 'unknown', values: [] });
  });
});

describe('ampio decoder: one case per state type', () => {
  it('4F diagnostics: byte2 × 0.2 V, byte3 − 100 °C, and the range ends', () => {
    expect(values('FE 4F 39 82')).toEqual([['diagnostics.1', { voltage: 11.4, temperature: 30 }]]);
    expect(values('FE 4F 78 7D')).toEqual([['diagnostics.1', { voltage: 24, temperature: 25 }]]);
    expect(values('FE 4F 00 00')).toEqual([['diagnostics.1', { voltage: 0, temperature: -100 }]]);
    expect(values('FE 4F FF FF')).toEqual([['diagnostics.1', { voltage: 51, temperature: 155 }]]);
    expect(decode('FE 4F 39')).toMatchObject({ status: 'truncated', values: [] });
  });

  it('06 temperature and 05 internal temperature: (u16 LE − 1000) / 10 °C', () => {
    expect(decode('FE 06 D9 04 B5 04 00 00')?.values).toEqual([{ kind: 'temperature', channel: 1, value: 24.1, unit: '°C' }]);
    expect(values('FE 05 D9 04')).toEqual([['temperature_int.1', 24.1]]);
    expect(values('FE 06 00 00')).toEqual([['temperature.1', -100]]);
    expect(values('FE 06 FF FF')).toEqual([['temperature.1', 6453.5]]);
    expect(values('FE 06 E8 03')).toEqual([['temperature.1', 0]]);
    expect(values('FE 06 E7 03')).toEqual([['temperature.1', -0.1]]);
    expect(decode('FE 06 D9')).toMatchObject({ status: 'truncated' });
    expect(decode('FE 05')).toMatchObject({ status: 'truncated' });
  });

  it.each([
    ['0C', 1],
    ['0D', 7],
    ['0E', 13],
  ])('%s analog outputs from %i, u8 each, a short frame gives its leading values', (t, first) => {
    expect(values(`FE ${t} 01 02 03 10 11 12`)).toEqual([1, 2, 3, 16, 17, 18].map((v, i) => [`aout.${first + i}`, v]));
    expect(values(`FE ${t} 00 FF`)).toEqual([
      [`aout.${first}`, 0],
      [`aout.${first + 1}`, 255],
    ]);
    expect(values(`FE ${t} 01`)).toEqual([[`aout.${first}`, 1]]);
    expect(decode(`FE ${t}`)).toMatchObject({ status: 'truncated', values: [] });
    // An 8th byte would be a 7th value: a block holds six.
    expect(values(`FE ${t} 01 02 03 10 11 12`)).toHaveLength(6);
  });

  it.each([
    ['1B', 'bin', 1],
    ['1C', 'bin', 49],
    ['1D', 'bin', 97],
    ['1E', 'bout', 1],
    ['1F', 'bout', 49],
    ['20', 'bout', 97],
    ['0F', 'binout', 1],
  ])('%s %s from %i: one bit each, LSB first from byte 2', (t, kind, first) => {
    const out = values(`FE ${t} 00 00 01 40 05 5A`) ?? [];
    expect(out).toHaveLength(48);
    const on = [17, 31, 33, 35, 42, 44, 45, 47];
    expect(out.filter(([, v]) => v === true).map(([k]) => k)).toEqual(on.map((n) => `${kind}.${first + n - 1}`));
    expect(out[0][0]).toBe(`${kind}.${first}`);
    expect(out[47][0]).toBe(`${kind}.${first + 47}`);
    expect(values(`FE ${t} 81`)).toEqual([true, false, false, false, false, false, false, true].map((v, i) => [`${kind}.${first + i}`, v]));
    expect(decode(`FE ${t}`)).toMatchObject({ status: 'truncated' });
  });

  it('0F binout: alternating bytes', () => {
    const out = values('FE 0F FF 00 FF 00 FF 00') ?? [];
    expect(out.map(([, v]) => v)).toEqual([
      ...Array(8).fill(true),
      ...Array(8).fill(false),
      ...Array(8).fill(true),
      ...Array(8).fill(false),
      ...Array(8).fill(true),
      ...Array(8).fill(false),
    ]);
  });

  it('80 flags 1–32 and C8 heating-zone summary 1–16 stop at their count', () => {
    expect(values('FE 80 FF FF FF FF FF FF')).toHaveLength(32);
    expect((values('FE 80 FF FF FF FF FF FF') ?? []).at(-1)).toEqual(['flag.32', true]);
    expect(values('FE C8 01 80 FF FF FF FF')).toHaveLength(16);
    expect((values('FE C8 01 80') ?? []).filter(([, v]) => v).map(([k]) => k)).toEqual(['zone.1', 'zone.16']);
  });

  it.each([
    ['19', 'armed'],
    ['1A', 'alarm'],
    ['38', 'breached'],
    ['39', 'arming'],
    ['3A', 'arming_10s'],
  ])('%s SATEL %s: zones 1–8 from byte 2', (t, kind) => {
    expect(values(`FE ${t} F0 00 FF 00 FF 00`)).toEqual([false, false, false, false, true, true, true, true].map((v, i) => [`${kind}.${i + 1}`, v]));
    expect(decode(`FE ${t}`)).toMatchObject({ status: 'truncated' });
  });

  it.each([
    ['21', 1],
    ['22', 4],
    ['23', 7],
    ['24', 10],
    ['25', 13],
  ])('%s s16b10000 from %i: (u16 LE − 10000) / 10', (t, first) => {
    expect(values(`FE ${t} 2C 29 79 4D A4 28`)).toEqual([
      [`s16b10000.${first}`, 54],
      [`s16b10000.${first + 1}`, 983.3],
      [`s16b10000.${first + 2}`, 40.4],
    ]);
    expect(values(`FE ${t} 00 00 FF FF 10 27`)).toEqual([
      [`s16b10000.${first}`, -1000],
      [`s16b10000.${first + 1}`, 5553.5],
      [`s16b10000.${first + 2}`, 0],
    ]);
    expect(values(`FE ${t} 2C 29`)).toEqual([[`s16b10000.${first}`, 54]]);
    expect(decode(`FE ${t} 2C`)).toMatchObject({ status: 'truncated' });
  });

  it.each([
    ['44', 1],
    ['45', 4],
    ['46', 7],
  ])('%s s16b from %i: raw u16 LE', (t, first) => {
    expect(values(`FE ${t} 2C 00 D6 03 72 00`)).toEqual([
      [`s16b.${first}`, 44],
      [`s16b.${first + 1}`, 982],
      [`s16b.${first + 2}`, 114],
    ]);
    expect(values(`FE ${t} 00 00 FF FF`)).toEqual([
      [`s16b.${first}`, 0],
      [`s16b.${first + 1}`, 65535],
    ]);
    expect(decode(`FE ${t} 39`)).toMatchObject({ status: 'truncated' });
  });

  it('49 RGBW', () => {
    expect(values('FE 49 07 08 09 0A')).toEqual([['rgb.1', { red: 7, green: 8, blue: 9, white: 10 }]]);
    expect(values('FE 49 00 FF 00 FF')).toEqual([['rgb.1', { red: 0, green: 255, blue: 0, white: 255 }]]);
    expect(decode('FE 49 07 08 09')).toMatchObject({ status: 'truncated' });
  });

  it('10 date and time', () => {
    expect(values('FE 10 19 09 15 07 0D 01')).toEqual([['datetime.1', { year: 2025, month: 9, day: 21, weekday: 7, daytime: 0, hour: 13, minute: 1 }]]);
    expect(values('FE 10 00 F1 E1 F8 9F FF')).toEqual([['datetime.1', { year: 2000, month: 1, day: 1, weekday: 0, daytime: 0x80, hour: 31, minute: 127 }]]);
    expect(decode('FE 10 19 09 15 07 0D')).toMatchObject({ status: 'truncated' });
  });

  it('C9–D8 heating zones 1–16', () => {
    for (let zone = 1; zone <= 16; zone++) {
      const t = (0xc8 + zone).toString(16);
      expect(values(`FE ${t} E1 04 B0 04 33 05`)).toEqual([
        [
          `heating.${zone}`,
          { current_temperature: 22.5, target_temperature: 17.6, temperature_diff: -4.9, active: true, heating: false, day_mode: true, mode: 0 },
        ],
      ]);
    }
    // Range ends of the signed difference byte: −128 and 127, then − 100, / 10.
    expect((decode('FE C9 00 00 00 00 80 72')?.values[0].value as Record<string, unknown> | undefined)?.temperature_diff).toBe(-22.8);
    expect(decode('FE C9 00 00 00 00 7F 72')?.values[0].value).toMatchObject({ temperature_diff: 2.7, heating: true, active: false, mode: 7 });
    expect(decode('FE C9 E1 04 B0 04 33')).toMatchObject({ status: 'truncated' });
  });

  it('10 EF SATEL response', () => {
    expect(values('10 EF 07')).toEqual([['response.1', { status: 7, response: 'changed code is the same' }]]);
    expect(values('10 EF 00')).toEqual([['response.1', { status: 0, response: 'OK' }]]);
    expect(values('10 EF 85')).toEqual([['response.1', { status: 0x85, response: 'other error' }]]);
    expect(values('10 EF 42')).toEqual([['response.1', { status: 0x42, response: 'unknown' }]]);
  });

  it('every table row has a source and a case above', () => {
    const tested = new Set([
      0x4f, 0x06, 0x05, 0x0c, 0x0d, 0x0e, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x0f, 0x80, 0xc8, 0x19, 0x1a, 0x38, 0x39, 0x3a, 0x21, 0x22, 0x23, 0x24, 0x25,
      0x44, 0x45, 0x46, 0x49, 0x10,
    ]);
    for (let z = 0xc9; z <= 0xd8; z++) tested.add(z);
    for (const row of DECODE_ROWS) {
      expect(row.source).toMatch(/aioampio/);
      expect(tested.has(row.type), `type 0x${row.type.toString(16)}`).toBe(true);
    }
  });
});

const fuzzRuns = Number(process.env.AMPIO_FUZZ_RUNS ?? 2000);

describe('ampio decoder: property', () => {
  it(`fuzz: no frame makes the decoder throw, and values stay within their rows (${fuzzRuns} runs; AMPIO_FUZZ_RUNS)`, {
    timeout: 60_000 + fuzzRuns / 10,
  }, () => {
    const data = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      // Bias towards state broadcasts: FE or 10 EF, any type, any length.
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 7 })).map(([t, rest]) => Uint8Array.from([0xfe, t, ...rest])),
      fc.uint8Array({ maxLength: 2 }).map((rest) => Uint8Array.from([0x10, 0xef, ...rest])),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), data, (id, bytes) => {
        const f = { id: id >>> 0, len: bytes.length, data: bytes, fd: bytes.length > 8, fdFlags: 0, timestamp: 0 };
        const r = decodeFrame(f);
        if (r === null) return;
        expect(r.module).toBeLessThanOrEqual(0x1fffffff);
        for (const v of r.values) {
          expect(Number.isInteger(v.channel) && v.channel >= 1 && v.channel <= 144).toBe(true);
          if (typeof v.value === 'number') expect(Number.isFinite(v.value)).toBe(true);
        }
      }),
      { numRuns: fuzzRuns },
    );
  });
});
