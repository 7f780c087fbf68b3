import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, CANFD_BRS, makeFrame } from '../../../../src/core/frame.js';
import {
  busParamsReply,
  DEVICE_INFO_REPLY,
  encodeGvretFrame,
  extBusesReply,
  gvretMicros,
  KEEPALIVE_REPLY,
  numBusesReply,
  readU32,
  requestedBitrate,
  timeSyncReply,
} from '../../../../src/protocols/gvret/codec.js';
import type { BusInfo } from '../../../../src/protocols/types.js';

const hex = (b: Uint8Array | null): string => (b === null ? 'null' : Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' '));

const bus = (index: number, bitrate: number | null, fd = false): BusInfo => ({
  index,
  name: `can${index}`,
  bitrate: () => bitrate,
  fd,
});

/** A frame received at wall-clock `us` µs (the vectors give the wrapped µs value). */
const at = (us: number) => us / 1000;

describe('GVRET frames to the client (vectors)', () => {
  it('RX 0x123, bus 0, 8 bytes, ts 0x1234', () => {
    const f = makeFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8], timestamp: at(0x1234) });
    expect(hex(encodeGvretFrame(f, 0, 'off', 0))).toBe('F1 00 34 12 00 00 23 01 00 00 08 01 02 03 04 05 06 07 08 00');
  });

  it('EFF 0x18DAF110 on bus 1 has bit 31 in the id and 0x11 in len|bus', () => {
    const f = makeFrame({ id: 0x18daf110, extended: true, data: [0x55], timestamp: at(7) });
    expect(hex(encodeGvretFrame(f, 1, 'off', 0))).toBe('F1 00 07 00 00 00 10 F1 DA 98 11 55 00');
  });

  it('a zero-length frame is header + trailer', () => {
    expect(hex(encodeGvretFrame(makeFrame({ id: 0x7f, timestamp: at(1) }), 3, 'off', 0))).toBe('F1 00 01 00 00 00 7F 00 00 00 30 00');
  });

  it('RTR goes out as a zero-length data frame with the RTR flag removed', () => {
    const f = makeFrame({ id: 0x123, rtr: true, len: 8, timestamp: at(1) });
    expect(hex(encodeGvretFrame(f, 0, 'off', 0))).toBe('F1 00 01 00 00 00 23 01 00 00 00 00');
  });

  it('error frames and buses over 15 cannot be carried', () => {
    expect(encodeGvretFrame(makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }), 0, 'off', 1)).toBeNull();
    expect(encodeGvretFrame(makeFrame({ id: 1, data: [1] }), 16, 'off', 1)).toBeNull();
  });

  it('timestamps are µs of the frame receive time, wrapping at 2^32 µs; frames without one get now', () => {
    const wall = 1_764_500_000_123.456; // ms since epoch, µs resolution
    const f = makeFrame({ id: 1, data: [9], timestamp: wall });
    const out = encodeGvretFrame(f, 0, 'off', 0)!;
    expect(readU32(out, 2)).toBe(Math.round(wall * 1000) % 2 ** 32);
    expect(gvretMicros(2 ** 32 / 1000 + 0.005)).toBe(5);
    const untimed = encodeGvretFrame(makeFrame({ id: 1, data: [9] }), 0, 'off', at(0xabcdef))!;
    expect(readU32(untimed, 2)).toBe(0xabcdef);
  });

  describe('CAN FD', () => {
    const fd12 = makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_BRS, data: Array.from({ length: 12 }, (_, i) => i + 1), timestamp: at(2) });

    it("is withheld with fd 'off'", () => {
      expect(encodeGvretFrame(fd12, 0, 'off', 0)).toBeNull();
    });

    it('esp32ret: F1 14 ts id len bus data 00', () => {
      expect(hex(encodeGvretFrame(fd12, 1, 'esp32ret', 0))).toBe('F1 14 02 00 00 00 23 01 00 00 0C 01 01 02 03 04 05 06 07 08 09 0A 0B 0C 00');
    });

    it('wiretap: F1 00 with the DLC code in the length nibble (12 bytes -> 9, 64 -> F)', () => {
      expect(hex(encodeGvretFrame(fd12, 1, 'wiretap', 0))).toBe('F1 00 02 00 00 00 23 01 00 00 19 01 02 03 04 05 06 07 08 09 0A 0B 0C 00');
      const fd64 = makeFrame({ id: 0x1abcdef0 | CAN_EFF_FLAG, fd: true, data: new Array(64).fill(0xee), timestamp: at(2) });
      const out = encodeGvretFrame(fd64, 0, 'wiretap', 0)!;
      expect(out.length).toBe(12 + 64);
      expect(out[10]).toBe(0x0f);
    });
  });
});

describe('GVRET replies: exact lengths (SavvyCAN counts body bytes)', () => {
  it('keepalive F1 09 DE AD', () => expect(hex(KEEPALIVE_REPLY)).toBe('F1 09 DE AD'));

  it('device info is F1 07 + 6 bytes, build 400', () => expect(hex(DEVICE_INFO_REPLY)).toBe('F1 07 90 01 01 00 00 00'));

  it('time sync F1 01 + u32 µs', () => expect(hex(timeSyncReply(at(0x0001e240)))).toBe('F1 01 40 E2 01 00'));

  it('bus params: bus0 on 500 k, bus1 on 250 k', () => {
    expect(hex(busParamsReply([bus(0, 500_000), bus(1, 250_000)]))).toBe('F1 06 01 20 A1 07 00 01 90 D0 03 00');
  });

  it('bus params: bus0 only; an unknown bitrate reads 0', () => {
    expect(hex(busParamsReply([bus(0, 500_000)]))).toBe('F1 06 01 20 A1 07 00 00 00 00 00 00');
    expect(hex(busParamsReply([bus(0, null), bus(1, 125_000)]))).toBe('F1 06 01 00 00 00 00 01 48 E8 01 00');
  });

  it('number of buses', () => expect(hex(numBusesReply(2))).toBe('F1 0C 02'));

  it('ext buses is F1 0D + 15 bytes; a third bus sits in the single-wire slot', () => {
    expect(hex(extBusesReply([bus(0, 1), bus(1, 1)]))).toBe('F1 0D 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
    expect(hex(extBusesReply([bus(0, 1), bus(1, 1), bus(2, 125_000)]))).toBe('F1 0D 01 48 E8 01 00 00 00 00 00 00 00 00 00 00 00');
  });

  it("reads SavvyCAN's setup words (bus0 500 k on, bus1 500 k off)", () => {
    expect(requestedBitrate(0xc007a120)).toEqual({ bitrate: 500_000, enabled: true, listenOnly: false });
    expect(requestedBitrate(0x8007a120)).toEqual({ bitrate: 500_000, enabled: false, listenOnly: false });
    expect(requestedBitrate(0)).toEqual({ bitrate: 0, enabled: false, listenOnly: false });
  });
});
