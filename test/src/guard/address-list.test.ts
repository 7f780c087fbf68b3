import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressAllowed,
  cidrContains,
  DEFAULT_ALLOW,
  formatAddressList,
  hostKey,
  isPublicAddress,
  parseAddressList,
  parseCidr,
  parseIp,
} from '../../../src/guard/address-list.js';

describe('parseIp', () => {
  it('reads IPv4 as IPv4-mapped IPv6, so both spellings of one peer are the same bytes', () => {
    expect(parseIp('10.0.0.7')).toEqual(parseIp('::ffff:10.0.0.7'));
    expect(parseIp('::ffff:a00:7')).toEqual(parseIp('10.0.0.7'));
  });

  it('reads IPv6 with ::, zones and brackets', () => {
    const lo = new Uint8Array(16);
    lo[15] = 1;
    expect(parseIp('::1')).toEqual(lo);
    expect(parseIp('[::1]')).toEqual(lo);
    expect(parseIp('0:0:0:0:0:0:0:1')).toEqual(lo);
    expect(parseIp('fe80::1%eth0')).toEqual(parseIp('fe80:0:0:0:0:0:0:1'));
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', 'localhost', '1.2.3.4:80', '::1.2.3.4.5'])
      expect(parseIp(bad), bad).toBeNull();
  });

  it('round-trips every IPv4 and IPv6 address written in full (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const b = parseIp(ip)!;
        expect([...b.slice(12)].join('.')).toBe(ip);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        // fast-check writes compressed forms and IPv4 tails too: parsing must never fail.
        expect(parseIp(ip)).not.toBeNull();
      }),
    );
  });
});

describe('CIDR matching', () => {
  it('matches prefixes on bit boundaries', () => {
    const c = parseCidr('172.16.0.0/12');
    expect(cidrContains(c, parseIp('172.16.0.1')!)).toBe(true);
    expect(cidrContains(c, parseIp('172.31.255.255')!)).toBe(true);
    expect(cidrContains(c, parseIp('172.32.0.0')!)).toBe(false);
    expect(cidrContains(c, parseIp('172.15.255.255')!)).toBe(false);
  });

  it('a single address is a /32 or /128; host bits of a range are ignored', () => {
    expect(parseCidr('192.168.1.7').bits).toBe(128);
    expect(cidrContains(parseCidr('192.168.1.77/24'), parseIp('192.168.1.1')!)).toBe(true);
    expect(cidrContains(parseCidr('fd12:3456::/32'), parseIp('fd12:3456:ffff::1')!)).toBe(true);
  });

  it('an IPv4 range never matches a non-mapped IPv6 address with the same low bits', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8'), parseIp('::a00:1')!)).toBe(false);
  });

  it('property: an address is inside every prefix of itself and outside when a bit in the prefix flips', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 32 }), (ip, prefix) => {
        const c = parseCidr(`${ip}/${prefix}`);
        const addr = parseIp(ip)!;
        expect(cidrContains(c, addr)).toBe(true);
        const flipped = addr.slice();
        const bit = 96 + prefix - 1;
        flipped[bit >> 3] ^= 0x80 >> (bit & 7);
        expect(cidrContains(c, flipped)).toBe(false);
      }),
    );
  });

  it('rejects bad prefixes with a message naming the value', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/0\.\.32/);
    expect(() => parseCidr('::/129')).toThrow(/0\.\.128/);
    expect(() => parseCidr('10.0.0.0/x')).toThrow(/prefix/);
    expect(() => parseCidr('example.com')).toThrow(/not an IP address/);
  });
});

describe('the default list (local)', () => {
  it('admits loopback, RFC 1918, link-local, ULA and IPv6 link-local, mapped or not', () => {
    for (const a of [
      '127.0.0.1',
      '127.0.0.3',
      '::1',
      '10.1.2.3',
      '172.16.5.5',
      '172.31.0.1',
      '192.168.178.20',
      '169.254.10.10',
      'fd00::1',
      'fc00::5',
      'fe80::1%eth0',
      '::ffff:192.168.1.2',
      '::ffff:127.0.0.1',
    ])
      expect(addressAllowed(DEFAULT_ALLOW, a), a).toBe(true);
  });

  it('refuses public and documentation addresses', () => {
    for (const a of ['8.8.8.8', '198.51.100.7', '203.0.113.1', '172.32.0.1', '100.64.0.1', '2001:db8::1', '::ffff:198.51.100.7', '2a00:1450::1', '::'])
      expect(addressAllowed(DEFAULT_ALLOW, a), a).toBe(false);
    expect(isPublicAddress('198.51.100.7')).toBe(true);
    expect(isPublicAddress('192.168.0.1')).toBe(false);
  });

  it('refuses a missing or unparsable peer address', () => {
    expect(addressAllowed(DEFAULT_ALLOW, undefined)).toBe(false);
    expect(addressAllowed(DEFAULT_ALLOW, 'garbage')).toBe(false);
  });
});

describe('parseAddressList', () => {
  it('mixes keywords and ranges, and formats back what was written', () => {
    const l = parseAddressList('loopback, 100.64.0.0/10');
    expect(addressAllowed(l, '127.0.0.1')).toBe(true);
    expect(addressAllowed(l, '100.100.1.1')).toBe(true);
    expect(addressAllowed(l, '192.168.1.1')).toBe(false);
    expect(formatAddressList(l)).toBe('loopback,100.64.0.0/10');
  });

  it('any admits everything and stands alone', () => {
    expect(addressAllowed(parseAddressList('any'), '8.8.8.8')).toBe(true);
    expect(() => parseAddressList('any,10.0.0.0/8')).toThrow(/any/);
    expect(() => parseAddressList(' , ')).toThrow(/empty/);
  });

  it('hostKey drops the IPv4-mapped prefix', () => {
    expect(hostKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(hostKey('::1')).toBe('::1');
    expect(hostKey(undefined)).toBe('?');
  });
});
