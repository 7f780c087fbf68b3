import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../../src/guard/address-list.js';
import { parseProcNetTcp, tcpKey, WriteLedger } from '../../../src/guard/write-ledger.js';

describe('WriteLedger', () => {
  it('the lag is the age of the oldest write the peer has not acknowledged', () => {
    const l = new WriteLedger();
    l.wrote(100, 0);
    l.wrote(100, 500);
    l.wrote(100, 900);
    expect(l.lag(300, 1000)).toBe(1000);
    expect(l.lag(200, 1000)).toBe(500);
    expect(l.lag(150, 1000)).toBe(500); // half of the second write is still out
    expect(l.lag(0, 1000)).toBe(0);
    expect(l.size).toBe(0);
  });

  it('property: bounded, and merging can only overstate the lag', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 100 }), (sizes, unackedPct) => {
        const small = new WriteLedger(4);
        const exact = new WriteLedger(1_000_000);
        sizes.forEach((s, i) => {
          small.wrote(s, i);
          exact.wrote(s, i);
        });
        expect(small.size).toBeLessThanOrEqual(4);
        const unacked = Math.floor((exact.totalWritten * unackedPct) / 100);
        expect(small.lag(unacked, 10_000)).toBeGreaterThanOrEqual(exact.lag(unacked, 10_000));
      }),
    );
  });
});

describe('parseProcNetTcp', () => {
  // Two real lines (IPv4 127.0.0.1:20000 ← 127.0.0.2:41234, tx_queue 0x1a2b) and one IPv6.
  const v4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4E20 0200007F:A112 01 00001A2B:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 20 4 30 10 -1
   1: 0100007F:4E20 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 100 0 0 10 0`;
  const v6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:4E20 00000000000000000000000001000000:B0B0 01 00000010:00000000 00:00000000 00000000  1000        0 999 1 0000000000000000 20 4 30 10 -1`;

  it('keys connections by local port and remote address:port, as Node reports them', () => {
    const m = parseProcNetTcp(v6, parseProcNetTcp(v4));
    expect(m.get(tcpKey(20000, parseIp('127.0.0.2')!, 0xa112))).toBe(0x1a2b);
    expect(m.get(tcpKey(20000, parseIp('::ffff:127.0.0.2')!, 0xa112))).toBe(0x1a2b);
    expect(m.get(tcpKey(20000, parseIp('::1')!, 0xb0b0))).toBe(0x10);
  });
});
