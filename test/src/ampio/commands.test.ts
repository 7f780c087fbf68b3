// Command encoders: exact bytes for the forms aioampio's controllers send (single frame to
// 0x0F000000 with the target address first; the multi-frame form with its length/checksum
// chunk), and refusals of values the wire cannot carry.
import { describe, expect, it } from 'vitest';
import {
  ampioCommands,
  encodeAnalogOutput,
  encodeBinaryOutput,
  encodeCover,
  encodeCoverPosition,
  encodeFlag,
  encodeMultiFrame,
  encodeRgbw,
} from '../../../src/ampio/commands.js';
import { CAN_EFF_FLAG } from '../../../src/core/frame.js';

const hex = (frames: { data: Uint8Array }[]) =>
  frames.map((f) =>
    Buffer.from(f.data)
      .toString('hex')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1 '),
  );

describe('ampio command encoders', () => {
  it('send to the extended id 0x0F000000', () => {
    const [f] = encodeBinaryOutput(0x1a1e, 3, true);
    expect(f.id).toBe((0x0f000000 | CAN_EFF_FLAG) >>> 0);
    expect(f.len).toBe(f.data.length);
    expect(f.fd).toBe(false);
  });

  it('binary output: address (u32 BE) 15 FF|00 <index−1>', () => {
    expect(hex(encodeBinaryOutput(0x1a1e, 3, true))).toEqual(['00 00 1A 1E 15 FF 02']);
    expect(hex(encodeBinaryOutput(0x1fffffff, 1, false))).toEqual(['1F FF FF FF 15 00 00']);
    expect(hex(encodeBinaryOutput(0, 144, true))).toEqual(['00 00 00 00 15 FF 8F']);
  });

  it('analog output: 15 <value> <index−1> 00', () => {
    expect(hex(encodeAnalogOutput(0x19c7, 2, 128))).toEqual(['00 00 19 C7 15 80 01 00']);
    expect(hex(encodeAnalogOutput(0x19c7, 1, 0))).toEqual(['00 00 19 C7 15 00 00 00']);
    expect(hex(encodeAnalogOutput(0x19c7, 1, 255))).toEqual(['00 00 19 C7 15 FF 00 00']);
  });

  it('RGBW: one 15 <v> <channel> per colour', () => {
    expect(hex(encodeRgbw(0x1879, [1, 2, 3, 4]))).toEqual(['00 00 18 79 15 01 00', '00 00 18 79 15 02 01', '00 00 18 79 15 03 02', '00 00 18 79 15 04 03']);
  });

  it('multi-frame: 16 <n> then [(len+1)>>1, sum], then 2-byte chunks', () => {
    // 2F F9 01 04: length 4 → first byte 2; sum 0x2F+0xF9+0x01+0x04 = 0x12D → 0x2D.
    expect(hex(encodeFlag(0x1a1e, 5, true))).toEqual(['00 00 1A 1E 16 00 02 2D', '00 00 1A 1E 16 01 2F F9', '00 00 1A 1E 16 02 01 04']);
    // An odd length ends in a 1-byte chunk.
    expect(hex(encodeMultiFrame(0x1a1e, Uint8Array.of(1, 2, 3)))).toEqual(['00 00 1A 1E 16 00 02 06', '00 00 1A 1E 16 01 01 02', '00 00 1A 1E 16 02 03']);
    expect(hex(encodeMultiFrame(0x1a1e, Uint8Array.of(0xff, 0xff)))).toEqual(['00 00 1A 1E 16 00 01 FE', '00 00 1A 1E 16 01 FF FF']);
  });

  it('covers: 31 F9 <2|1|0> <index−1>; position 31 03 <index−1> 00 00 <pos> <tilt>, 0x65 = keep', () => {
    expect(hex(encodeCover(0x1e5d, 1, 'open')).slice(1)).toEqual(['00 00 1E 5D 16 01 31 F9', '00 00 1E 5D 16 02 02 00']);
    expect(hex(encodeCover(0x1e5d, 2, 'close')).at(-1)).toBe('00 00 1E 5D 16 02 01 01');
    expect(hex(encodeCover(0x1e5d, 2, 'stop')).at(-1)).toBe('00 00 1E 5D 16 02 00 01');
    const pos = hex(encodeCoverPosition(0x1e5d, 1, 40, null));
    expect(pos).toHaveLength(5);
    expect(pos.slice(1)).toEqual(['00 00 1E 5D 16 01 31 03', '00 00 1E 5D 16 02 00 00', '00 00 1E 5D 16 03 00 28', '00 00 1E 5D 16 04 65']);
    expect(hex(encodeCoverPosition(0x1e5d, 1, 150, -3)).at(-2)).toBe('00 00 1E 5D 16 03 00 64');
    expect(hex(encodeCoverPosition(0x1e5d, 1, 150, -3)).at(-1)).toBe('00 00 1E 5D 16 04 00');
  });

  it('refuses what the wire cannot carry', () => {
    expect(() => encodeBinaryOutput(0x20000000, 1, true)).toThrow(/29-bit/);
    expect(() => encodeBinaryOutput(1, 0, true)).toThrow(/outside 1\.\.256/);
    expect(() => encodeBinaryOutput(1, 257, true)).toThrow(/outside/);
    expect(() => encodeAnalogOutput(1, 1, 256)).toThrow(/brightness 256/);
    expect(() => encodeAnalogOutput(1, 1, 1.5)).toThrow(/brightness/);
    expect(() => encodeRgbw(1, [0, 0, -1, 0])).toThrow(/blue/);
    expect(() => encodeMultiFrame(1, new Uint8Array(0))).toThrow(/1\.\.255/);
    expect(() => encodeCover(1, 1, 'up' as 'open')).toThrow(/open, close or stop/);
  });

  it('the CommandEncoders object carries every encoder', () => {
    expect(Object.keys(ampioCommands).sort()).toEqual([
      'encodeAnalogOutput',
      'encodeBinaryOutput',
      'encodeCover',
      'encodeCoverPosition',
      'encodeFlag',
      'encodeLightLevel',
      'encodeLightSwitch',
      'encodeMultiFrame',
      'encodeRgbw',
    ]);
  });
});
