import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTxRate, parseTxRate, suggestTxRate, TokenBucket } from '../../../src/guard/token-bucket.js';

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    const b = new TokenBucket({ rate: 100, burst: 10 }, 0);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.take(0)) ok++;
    expect(ok).toBe(10);
    expect(b.take(5)).toBe(false); // 0.5 token
    expect(b.take(10)).toBe(true); // 1 token after 10 ms at 100/s
    expect(b.take(10)).toBe(false);
  });

  it('never holds more than the burst after a long quiet period', () => {
    const b = new TokenBucket({ rate: 100, burst: 10 }, 0);
    expect(b.available(1e9)).toBe(10);
  });

  it('ignores a clock going backwards', () => {
    const b = new TokenBucket({ rate: 1000, burst: 1 }, 100);
    expect(b.take(100)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(false);
  });

  it('property: frames taken over any schedule ≤ burst + rate·elapsed, and exactly that under constant pressure', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          const b = new TokenBucket({ rate, burst }, 0);
          let t = 0;
          let taken = 0;
          while (b.take(0)) taken++;
          for (const g of gaps) {
            t += g;
            // Flood: take until refused.
            while (b.take(t)) taken++;
          }
          const bound = burst + (rate * t) / 1000;
          expect(taken).toBeLessThanOrEqual(bound);
          // When no step earns more than the bucket holds, nothing is capped away: a flood gets
          // exactly the bound, rounded down (one token of slack for float rounding).
          if (gaps.every((g) => (g * rate) / 1000 + 1 <= burst)) expect(taken).toBeGreaterThanOrEqual(Math.floor(bound) - 1);
        },
      ),
    );
  });

  it('reconfigure keeps earned tokens, capped at the new burst', () => {
    const b = new TokenBucket({ rate: 10, burst: 100 }, 0);
    b.reconfigure({ rate: 10, burst: 5 }, 0);
    expect(b.available(0)).toBe(5);
  });
});

describe('parseTxRate', () => {
  it('reads rate and optional burst; 0/off is no limit', () => {
    expect(parseTxRate('200')).toEqual({ rate: 200, burst: 200 });
    expect(parseTxRate('200/50')).toEqual({ rate: 200, burst: 50 });
    expect(parseTxRate('0')).toBeNull();
    expect(parseTxRate('off')).toBeNull();
    expect(formatTxRate({ rate: 200, burst: 50 })).toBe('200/50');
    expect(formatTxRate({ rate: 7, burst: 7 })).toBe('7');
    expect(formatTxRate(null)).toBe('0');
  });

  it('rejects nonsense with the expected form', () => {
    expect(() => parseTxRate('fast')).toThrow(/frames\/s like 200/);
    expect(() => parseTxRate('10/0')).toThrow(/burst/);
  });

  it('suggests half of what the bus can carry', () => {
    // 50 kbit/s ≈ 384 extended 8-byte frames/s; half of it per client.
    expect(suggestTxRate(50_000)).toEqual({ rate: 192, burst: 48 });
  });
});
