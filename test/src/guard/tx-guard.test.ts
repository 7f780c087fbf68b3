import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIdMaskList } from '../../../src/guard/id-mask.js';
import { TxGuard } from '../../../src/guard/tx-guard.js';

describe('TxGuard', () => {
  it('a listen-only session refuses every frame as read_only, first one flagged', () => {
    const g = new TxGuard({ readOnly: true, rate: null, ids: [] }, 0);
    expect(g.check(0x100, 0)).toEqual({ reason: 'read_only', first: true });
    expect(g.check(0x100, 0)).toEqual({ reason: 'read_only', first: false });
    expect(g.refused.read_only).toBe(2);
  });

  it('a forbidden ID takes no token', () => {
    const g = new TxGuard({ readOnly: false, rate: { rate: 1, burst: 1 }, ids: parseIdMaskList('100') }, 0);
    expect(g.check(0x200, 0)?.reason).toBe('id_not_allowed');
    expect(g.check(0x100, 0)).toBeNull();
    expect(g.check(0x100, 0)).toEqual({ reason: 'rate_limited', first: true });
  });

  it('property: a flood of n frames is split exactly into sent + refused by reason', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1000 }), (n, burst, span) => {
        const g = new TxGuard({ readOnly: false, rate: { rate: 100, burst }, ids: parseIdMaskList('100/700') }, 0);
        let sent = 0;
        for (let i = 0; i < n; i++) {
          const id = i % 3 === 0 ? 0x300 : 0x150;
          if (g.check(id, (i * span) / n) === null) sent++;
        }
        const forbidden = Math.ceil(n / 3);
        expect(g.refused.id_not_allowed).toBe(forbidden);
        expect(sent + g.refused.rate_limited + g.refused.id_not_allowed).toBe(n);
        expect(sent).toBeLessThanOrEqual(burst + (100 * span) / 1000);
        expect(g.totalRefused()).toBe(n - sent);
      }),
    );
  });

  it('reconfigure switches policies on a live session', () => {
    const g = new TxGuard({ readOnly: true, rate: null, ids: [] }, 0);
    g.reconfigure({ readOnly: false, rate: { rate: 10, burst: 2 }, ids: [] }, 0);
    expect(g.readOnly).toBe(false);
    expect(g.check(1, 0)).toBeNull();
    expect(g.check(1, 0)).toBeNull();
    expect(g.check(1, 0)?.reason).toBe('rate_limited');
    g.reconfigure({ readOnly: false, rate: null, ids: [] }, 0);
    expect(g.check(1, 0)).toBeNull();
  });
});
