import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/core/backoff.js';

describe('Backoff', () => {
  it('grows by the factor up to the ceiling, and starts over after reset', () => {
    const b = new Backoff({ initial: 500, max: 10_000 });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('never goes below initial or above max, and never shrinks until reset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (initial, extra, factor) => {
          const b = new Backoff({ initial, max: initial + extra, factor });
          let last = 0;
          for (let i = 0; i < 40; i++) {
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.max(initial, last));
            expect(d).toBeLessThanOrEqual(initial + extra);
            last = d;
          }
        },
      ),
    );
  });

  it('refuses settings that cannot back off', () => {
    expect(() => new Backoff({ initial: 0, max: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initial: 10, max: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ initial: 1, max: 5, factor: 0.5 })).toThrow(RangeError);
  });
});
