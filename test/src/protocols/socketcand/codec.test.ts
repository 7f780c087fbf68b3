import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, CAN_ERR_BUSOFF, makeFrame } from '../../../../src/core/frame.js';
import {
  beaconMessage,
  encodeBcmFrame,
  encodeErrorFrame,
  encodeRawFrame,
  formatStat,
  formatTimestamp,
  parseCanId,
  parseFrameArgs,
  rawFrameEncoder,
} from '../../../../src/protocols/socketcand/codec.js';
import { MAX_MESSAGE_LENGTH, MessageTokenizer, type TokenizerEvent } from '../../../../src/protocols/socketcand/tokenizer.js';
import { bytes, text } from './fakes.js';

const T = 23_424.242; // ms → 23.424242
const words = (s: string): string[] => s.trim().split(/\s+/);

describe('server → client vectors', () => {
  it('RAW frame: %03X id, SEC.USEC, contiguous upper-case data', () => {
    expect(text(encodeRawFrame(makeFrame({ id: 0x123, data: [0x1a, 0x22, 0x03, 0x44] }), T)!)).toBe(' < frame 123 23.424242 1A220344 >');
  });

  it('RAW zero-length frame keeps two spaces; every RAW message starts with a space', () => {
    expect(text(encodeRawFrame(makeFrame({ id: 0x123 }), 1000)!)).toBe(' < frame 123 1.000000  >');
  });

  it('RAW extended id is %08X without the flag, even when small', () => {
    expect(text(encodeRawFrame(makeFrame({ id: 0x123, extended: true, data: [0xff] }), 1000)!)).toBe(' < frame 00000123 1.000000 FF >');
    expect(text(encodeRawFrame(makeFrame({ id: 0x1abcdef0, data: [0] }), 1000)!)).toBe(' < frame 1ABCDEF0 1.000000 00 >');
  });

  it('RTR and FD frames have no socketcand form', () => {
    expect(encodeRawFrame(makeFrame({ id: 0x7df, rtr: true, len: 8 }), 1000)).toBeNull();
    expect(encodeRawFrame(makeFrame({ id: 0x7df, fd: true, data: new Array(12).fill(1) }), 1000)).toBeNull();
    expect(encodeBcmFrame(makeFrame({ id: 0x7df, rtr: true, len: 8 }), 1000)).toBeNull();
  });

  it('BCM frame: every byte followed by a space, then " >"', () => {
    expect(text(encodeBcmFrame(makeFrame({ id: 0x321, data: [0xaa, 0xbb] }), 1000)!)).toBe('< frame 321 1.000000 AA BB  >');
    expect(text(encodeBcmFrame(makeFrame({ id: 0x321 }), 1000)!)).toBe('< frame 321 1.000000  >');
  });

  it('error frame as upstream RAW mode: class %03X (bus-off → 040), no data', () => {
    const busOff = makeFrame({ id: CAN_ERR_BUSOFF, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0], timestamp: 1_680_000_001_000 });
    expect(text(encodeErrorFrame(busOff, 1_680_000_001_000)!)).toBe(' < error 040 1680000001.000000 >');
    expect(text(rawFrameEncoder(() => 0).encode(busOff, 0)!)).toBe(' < error 040 1680000001.000000 >');
  });

  it('timestamps: 6 µs digits, rounding carries into the second', () => {
    expect(formatTimestamp(1_796_028_722_480.119)).toBe('1796028722.480119');
    expect(formatTimestamp(1999.9999)).toBe('2.000000');
    expect(formatTimestamp(0)).toBe('0.000000');
  });

  it('a frame without receive time gets the encoder clock', () => {
    const enc = rawFrameEncoder(() => 5000.5);
    expect(text(enc.encode(makeFrame({ id: 1, data: [1] }), 0)!)).toBe(' < frame 001 5.000500 01 >');
    expect(text(enc.encode(makeFrame({ id: 1, data: [1], timestamp: 1000 }), 0)!)).toBe(' < frame 001 1.000000 01 >');
  });

  it('stat and beacon', () => {
    expect(text(formatStat({ rxBytes: 10, rxFrames: 2, txBytes: 2 ** 32 + 5, txFrames: 1 }))).toBe('< stat 10 2 5 1 >');
    expect(beaconMessage({ hostname: 'pi', address: '10.0.0.2', port: 29536, buses: ['vcan0', 'vcan1'] })).toBe(
      '<CANBeacon name="pi" type="SocketCAN" description="socketcand">\n<URL>can://10.0.0.2:29536</URL><Bus name="vcan0"/><Bus name="vcan1"/></CANBeacon>',
    );
    expect(beaconMessage({ hostname: 'x'.repeat(40), address: '1.2.3.4', port: 1, buses: [] })).toContain(`name="${'x'.repeat(32)}"`);
  });
});

describe('client → server: tolerant send parsing', () => {
  const parse = (s: string) => parseFrameArgs(words(s), 1);
  const ok = (s: string) => {
    const r = parse(s);
    if (!r.ok) throw new Error(`${s}: ${r.detail}`);
    return { id: r.value.id >>> 0, data: Array.from(r.value.data) };
  };

  it('upstream vectors', () => {
    expect(ok('send 1AAAAAAA 2 1 f1')).toEqual({ id: (0x1aaaaaaa | CAN_EFF_FLAG) >>> 0, data: [1, 0xf1] });
    expect(ok('send 123 0')).toEqual({ id: 0x123, data: [] });
  });

  it('python-can 4.1 forms: lower case, unpadded, EFF without padding', () => {
    expect(ok('send 123 3 1 a ff')).toEqual({ id: 0x123, data: [1, 0x0a, 0xff] });
    expect(ok('send 1ABCDEF0 8 0 1 2 3 4 5 6 7')).toEqual({ id: (0x1abcdef0 | CAN_EFF_FLAG) >>> 0, data: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(ok('send 800 1 22')).toEqual({ id: (0x800 | CAN_EFF_FLAG) >>> 0, data: [0x22] });
  });

  it('SavvyCAN sets bit 31: masked to 29 bits; 8 digits mean extended', () => {
    expect(ok('send 80000123 1 33')).toEqual({ id: (0x123 | CAN_EFF_FLAG) >>> 0, data: [0x33] });
    expect(ok('send 00000123 0')).toEqual({ id: (0x123 | CAN_EFF_FLAG) >>> 0, data: [] });
    expect(ok('send ffffffff 0').id).toBe((0x1fffffff | CAN_EFF_FLAG) >>> 0);
  });

  it('socketcandcl form with two spaces before >; DLC hex or decimal', () => {
    expect(ok('send 456 2 be ef  ')).toEqual({ id: 0x456, data: [0xbe, 0xef] });
    expect(ok('send 456 08 1 2 3 4 5 6 7 8').data).toHaveLength(8);
  });

  it('refuses, with a reason code: RTR form, DLC > 8, junk', () => {
    const code = (s: string) => {
      const r = parse(s);
      return r.ok ? 'ok' : r.code;
    };
    expect(code('send 7DF 8')).toBe('short_data');
    expect(code('send 123 9 1 2 3 4 5 6 7 8 9')).toBe('bad_dlc');
    expect(code('send 123 a')).toBe('bad_dlc');
    expect(code('send xyz 1 2')).toBe('bad_id');
    expect(code('send 123 1 2 3')).toBe('extra_data');
    expect(code('send 123 1 zz')).toBe('syntax');
    expect(code('send 123 1 123')).toBe('syntax');
    expect(code('send')).toBe('syntax');
    expect(code('send 100000000 0')).toBe('bad_id');
  });

  it('parseCanId: 3-digit ids stay standard', () => {
    expect(parseCanId('7ff')).toBe(0x7ff);
    expect(parseCanId('0')).toBe(0);
    expect(parseCanId('g')).toBeNull();
  });
});

const collect = (chunks: Uint8Array[]): TokenizerEvent[] => {
  const t = new MessageTokenizer();
  return chunks.flatMap((c) => t.push(c));
};
const messagesOf = (events: TokenizerEvent[]): string[] => events.flatMap((e) => (e.kind === 'message' ? [e.words.join(' ')] : []));

describe('tokenizer', () => {
  it('several messages in one read; whitespace between them ignored', () => {
    expect(messagesOf(collect([bytes('< open vcan0 >< rawmode >\n< echo >')]))).toEqual(['open vcan0', 'rawmode', 'echo']);
  });

  it('a command split one byte at a time', () => {
    const input = bytes('< open can0 >< send 123 2 aa bb >');
    expect(messagesOf(collect(Array.from(input, (b) => Uint8Array.of(b))))).toEqual(['open can0', 'send 123 2 aa bb']);
  });

  it('garbage between messages is skipped and reported once per run', () => {
    const ev = collect([bytes('xx< echo >yy  zz<echo>')]);
    expect(messagesOf(ev)).toEqual(['echo', 'echo']);
    expect(ev.filter((e) => e.kind === 'garbage').map((e) => (e as { bytes: number }).bytes)).toEqual([2, 2, 2]);
  });

  it('a < inside a message restarts framing', () => {
    const ev = collect([bytes('< send 12'), bytes('3 < echo >')]);
    expect(ev.map((e) => e.kind)).toEqual(['unterminated', 'message']);
    expect(messagesOf(ev)).toEqual(['echo']);
  });

  it('an over-long message stops the tokenizer, even without a closing >', () => {
    const t = new MessageTokenizer();
    expect(t.push(bytes(`< ${'a'.repeat(MAX_MESSAGE_LENGTH - 4)} >`)).map((e) => e.kind)).toEqual(['message']);
    const ev = [...t.push(bytes('< ')), ...t.push(bytes('b'.repeat(MAX_MESSAGE_LENGTH)))];
    expect(ev.map((e) => e.kind)).toEqual(['overlong']);
    expect(t.stopped).toBe(true);
    expect(t.push(bytes('< echo >'))).toEqual([]);
  });

  it('property: random bytes never throw and never buffer beyond the bound', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const t = new MessageTokenizer();
        for (const c of chunks) {
          t.push(c);
          expect(t.buffered).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
        }
      }),
    );
  });

  it('property: the events do not depend on where the stream is split', () => {
    const piece = fc.oneof(fc.constantFrom('<', '>', ' ', '\n', 'send', '123', 'open can0', 'x'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), (pieces, cuts) => {
        const all = bytes(pieces.join(''));
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          chunks.push(all.subarray(prev, p));
          prev = p;
        }
        const whole = collect([all]);
        const split = collect(chunks);
        // Garbage runs may be reported in more pieces when a cut falls inside one; their total is the same.
        const norm = (ev: TokenizerEvent[]) => ev.filter((e) => e.kind !== 'garbage');
        const garbage = (ev: TokenizerEvent[]) => ev.reduce((n, e) => n + (e.kind === 'garbage' ? e.bytes : 0), 0);
        expect(norm(split)).toEqual(norm(whole));
        expect(garbage(split)).toBe(garbage(whole));
      }),
    );
  });

  it('property: send parsing never throws on any words', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 10 }), { maxLength: 12 }), (w) => {
        const r = parseFrameArgs(['send', ...w], 1);
        if (r.ok) {
          expect(r.value.len).toBeLessThanOrEqual(8);
          expect(r.value.data.length).toBe(r.value.len);
        }
      }),
    );
  });

  it('property: a RAW frame round-trips through send parsing (id, data)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.uint8Array({ maxLength: 8 }), (ext, n, data) => {
        const f = ext ? makeFrame({ id: n % 0x20000000, extended: true, data }) : makeFrame({ id: n % 0x800, extended: false, data });
        const w = words(text(encodeRawFrame(f, 1000)!).trim().slice(1, -1));
        const hex = w[3] ?? '';
        const sendWords = ['send', w[1], String(data.length), ...(hex.match(/../g) ?? [])];
        const r = parseFrameArgs(sendWords, 1);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value.id >>> 0).toBe(f.id >>> 0);
          expect(Array.from(r.value.data)).toEqual(Array.from(data));
        }
      }),
    );
  });
});
