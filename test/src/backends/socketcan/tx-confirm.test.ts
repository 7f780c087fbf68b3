import { describe, expect, it } from 'vitest';
import { TxConfirmations } from '../../../../src/backends/socketcan/tx-confirm.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { originOf } from '../../../support/origin.js';

describe('TxConfirmations', () => {
  it('confirms in order, takes the kernel time, tolerates two echoes swapped', () => {
    let now = 0;
    const c = new TxConfirmations(() => now, 500);
    const f = (i: number) => makeFrame({ id: 0x100, data: [i] });
    for (let i = 0; i < 4; i++) c.written(f(i), originOf(10 + i));
    expect(c.confirm({ ...f(0), timestamp: 5 })).toEqual({ frame: { ...f(0), timestamp: 5 }, origin: originOf(10) });
    expect(c.confirm(f(2))?.origin).toBe(originOf(12));
    expect(c.confirm(f(1))?.origin).toBe(originOf(11));
    expect(c.confirm(f(9))).toBeNull();
    expect(c.unmatched).toBe(1);
    expect(c.depth).toBe(1);
    now = 501;
    expect(c.expire()).toBe(1);
    expect(c.unconfirmed).toBe(1);
    expect(c.confirm(f(3))).toBeNull();
  });

  it('a link loss counts what was still waiting; the capacity bounds the list', () => {
    const c = new TxConfirmations(() => 0, 0, 2);
    for (let i = 0; i < 3; i++) c.written(makeFrame({ id: 1, data: [i] }), originOf(i));
    expect(c.unconfirmed).toBe(1);
    expect(c.expire()).toBe(0); // limit 0 never expires
    expect(c.clear()).toBe(2);
    expect(c.unconfirmed).toBe(3);
    expect(c.depth).toBe(0);
  });
});
