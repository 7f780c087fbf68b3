// The 13-byte record against hand-written bytes (the format from the vendor's wiki and
// can-waveshare's bus.py, not from the code under test).
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, makeFrame } from '../../../../src/core/frame.js';
import { decodeRecord, encodeRecord, RecordDecoder } from '../../../../src/protocols/waveshare/codec.js';

const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : null);

describe('waveshare record', () => {
  it('encodes standard, extended, remote and empty frames as 13 bytes, data zero-padded', () => {
    expect(hex(encodeRecord(makeFrame({ id: 0x123, data: [0x11, 0x22, 0x33] })))).toBe('03' + '00000123' + '112233' + '0000000000');
    expect(hex(encodeRecord(makeFrame({ id: (CAN_EFF_FLAG | 0x1abcdef0) >>> 0, data: [1, 2, 3, 4, 5, 6, 7, 8] })))).toBe(
      '88' + '1abcdef0' + '0102030405060708',
    );
    expect(hex(encodeRecord({ id: (CAN_RTR_FLAG | 0x7ff) >>> 0, len: 4, data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: 0 }))).toBe(
      '44' + '000007ff' + '0000000000000000',
    );
    expect(hex(encodeRecord({ id: (CAN_EFF_FLAG | CAN_RTR_FLAG | 0x10) >>> 0, len: 0, data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: 0 }))).toBe(
      'c0' + '00000010' + '0000000000000000',
    );
    expect(hex(encodeRecord(makeFrame({ id: 0x1, data: [] })))).toBe('00' + '00000001' + '0000000000000000');
  });

  it('has no form for CAN FD or error frames (null: the session withholds and counts them)', () => {
    expect(encodeRecord({ id: 0x1, len: 12, data: new Uint8Array(12), fd: true, fdFlags: 1, timestamp: 0 })).toBeNull();
    expect(encodeRecord({ id: 0x1, len: 8, data: new Uint8Array(8), fd: true, fdFlags: 0, timestamp: 0 })).toBeNull();
    expect(encodeRecord({ id: (CAN_ERR_FLAG | 0x40) >>> 0, len: 8, data: new Uint8Array(8), fd: false, fdFlags: 0, timestamp: 0 })).toBeNull();
  });

  it('decodes what the client sends; a remote request keeps its length and has no data', () => {
    const r = decodeRecord(Buffer.from('c3' + '1fffffff' + 'aabbcc0000000000', 'hex'), 0);
    expect(r).toMatchObject({ id: (CAN_EFF_FLAG | CAN_RTR_FLAG | 0x1fffffff) >>> 0, len: 3, fd: false });
    expect(Array.from((r as { data: Uint8Array }).data)).toEqual([]);
    const d = decodeRecord(Buffer.from('02' + '00000100' + 'beef000000000000', 'hex'), 0);
    expect(d).toMatchObject({ id: 0x100, len: 2 });
    expect(Array.from((d as { data: Uint8Array }).data)).toEqual([0xbe, 0xef]);
  });

  it('refuses a length above 8, unknown flag bits and an id wider than its form', () => {
    expect(decodeRecord(Buffer.from('09' + '00000001' + '0000000000000000', 'hex'), 0)).toMatchObject({ code: 'dlc' });
    expect(decodeRecord(Buffer.from('21' + '00000001' + '0000000000000000', 'hex'), 0)).toMatchObject({ code: 'reserved_bits' });
    expect(decodeRecord(Buffer.from('01' + '00000800' + '0000000000000000', 'hex'), 0)).toMatchObject({ code: 'id_range' });
    expect(decodeRecord(Buffer.from('81' + '20000000' + '0000000000000000', 'hex'), 0)).toMatchObject({ code: 'id_range' });
    // A cannelloni client at this port: its hello is not a record.
    expect(decodeRecord(Buffer.from('CANNELLONIv1!', 'ascii'), 0)).toHaveProperty('code');
  });

  it('reassembles records split at every byte, and stops at the first bad one', () => {
    const stream = Buffer.concat([encodeRecord(makeFrame({ id: 0x10, data: [1] }))!, encodeRecord(makeFrame({ id: 0x11, data: [2, 3] }))!]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: number[] = [];
      const dec = new RecordDecoder((f) => got.push(f.id));
      expect(dec.push(stream.subarray(0, cut))).toBeNull();
      expect(dec.push(stream.subarray(cut))).toBeNull();
      expect(got).toEqual([0x10, 0x11]);
    }
    const got: number[] = [];
    const dec = new RecordDecoder((f) => got.push(f.id));
    const bad = Buffer.from('0f' + '00000001' + '0000000000000000', 'hex');
    expect(dec.push(Buffer.concat([stream.subarray(0, 13), bad, stream.subarray(13)]))).toMatchObject({ code: 'dlc' });
    expect(got).toEqual([0x10]);
    expect(dec.push(stream)).toBeNull();
    expect(got).toEqual([0x10]);
  });
});
