import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG } from '../../../src/core/frame.js';
import { idAllowed, parseIdMask, parseIdMaskList } from '../../../src/guard/id-mask.js';

describe('id/mask lists', () => {
  it('an empty list allows every ID', () => {
    expect(idAllowed([], 0x123)).toBe(true);
  });

  it('matches standard ranges and single IDs', () => {
    const l = parseIdMaskList('100/700,1d0');
    expect(idAllowed(l, 0x100)).toBe(true);
    expect(idAllowed(l, 0x1ff)).toBe(true);
    expect(idAllowed(l, 0x200)).toBe(false);
    expect(idAllowed(l, 0x1d0)).toBe(true);
    expect(idAllowed(l, 0x2d0)).toBe(false);
    expect(idAllowed(parseIdMaskList('1d0'), 0x1d1)).toBe(false);
  });

  it('keeps standard and extended apart', () => {
    const std = parseIdMaskList('100');
    expect(idAllowed(std, (CAN_EFF_FLAG | 0x100) >>> 0)).toBe(false);
    const ext = parseIdMaskList('1e000000/1f000000');
    expect(ext[0].extended).toBe(true);
    expect(idAllowed(ext, (CAN_EFF_FLAG | 0x1e123456) >>> 0)).toBe(true);
    expect(idAllowed(ext, (CAN_EFF_FLAG | 0x1d123456) >>> 0)).toBe(false);
    expect(parseIdMask('00000100').extended).toBe(true);
    expect(parseIdMask('0x1D0').id).toBe(0x1d0);
  });

  it('rejects bad input naming it', () => {
    expect(() => parseIdMask('xyz')).toThrow(/not hex/);
    expect(() => parseIdMask('1/2/3')).toThrow(/more than one/);
    expect(() => parseIdMask('3fffffff')).toThrow(/29-bit/);
  });

  it('property: agrees with the SocketCAN filter rule for extended IDs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x1fffffff }),
        fc.integer({ min: 0, max: 0x1fffffff }),
        fc.integer({ min: 0, max: 0x1fffffff }),
        (id, mask, frameId) => {
          const m = parseIdMask(`${id.toString(16).padStart(8, '0')}/${mask.toString(16)}`);
          const expected = (frameId & mask) === (id & mask);
          expect(idAllowed([m], (CAN_EFF_FLAG | frameId) >>> 0)).toBe(expected);
        },
      ),
    );
  });
});
