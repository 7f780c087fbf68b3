import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerLogLimiter, shareKey } from '../../../src/guard/peer-log-limiter.js';

describe('PeerLogLimiter', () => {
  it('logs the first few per host, then summarises the rest when the window ends', () => {
    const l = new PeerLogLimiter({ windowMs: 60_000, perHost: 5, globalLines: 100, maxHosts: 100, maxSummaries: 10 });
    let logged = 0;
    for (let i = 0; i < 4998; i++) if (l.admit('10.0.0.7', i)) logged++;
    expect(logged).toBe(5);
    expect(l.roll(59_999)).toEqual([]);
    const s = l.roll(60_000);
    expect(s).toHaveLength(1);
    expect(s[0].message).toBe('… and 4,993 more connection events from 10.0.0.7 in the last 60 s');
    // A new window starts fresh.
    expect(l.admit('10.0.0.7', 60_001)).toBe(true);
  });

  it('hosts beyond the summaries and the memory bound end up in one line', () => {
    const l = new PeerLogLimiter({ windowMs: 1000, perHost: 1, globalLines: 1000, maxHosts: 3, maxSummaries: 1 });
    for (const h of ['a', 'b', 'c', 'd', 'e']) for (let i = 0; i < 3; i++) l.admit(h, 0);
    const s = l.flush();
    expect(s.map((x) => x.host)).toEqual(['a', null]);
    expect(s[1].suppressed).toBe(2 + 2 + 6);
    expect(s[1].message).toMatch(/from many other hosts/);
  });

  it('property: whatever peers do, lines per window ≤ the bound', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 180_000 })), { maxLength: 3000 }), (events) => {
        const l = new PeerLogLimiter({ windowMs: 60_000, perHost: 5, globalLines: 50, maxHosts: 200, maxSummaries: 10 });
        events.sort((a, b) => a[1] - b[1]);
        let lines = 0;
        let windowLines = 0;
        for (const [host, t] of events) {
          const s = l.roll(t);
          if (s.length > 0 || lines === 0) {
            expect(windowLines).toBeLessThanOrEqual(l.maxLinesPerWindow());
            windowLines = 0;
          }
          windowLines += s.length;
          if (l.admit(`10.0.${host >> 8}.${host & 255}`, t)) windowLines++;
          lines++;
        }
        windowLines += l.flush().length;
        expect(windowLines).toBeLessThanOrEqual(l.maxLinesPerWindow());
      }),
    );
  });
});

describe('shareKey', () => {
  it('IPv4 by address, global IPv6 by /64, local IPv6 whole', () => {
    expect(shareKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(shareKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(shareKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(shareKey('fd00::1')).toBe('fd00::1');
    expect(shareKey('fe80::1%eth0')).toBe('fe80::1');
    expect(shareKey('::1')).toBe('::1');
  });
});
