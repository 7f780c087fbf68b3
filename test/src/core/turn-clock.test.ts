import { describe, expect, it } from 'vitest';
import { turnClock } from '../../../src/core/turn-clock.js';

describe('turnClock', () => {
  it('reads the system clock once per turn and again in the next turn', async () => {
    let reads = 0;
    let t = 100;
    const now = turnClock(() => {
      reads++;
      return t;
    });
    expect(now()).toBe(100);
    t = 105;
    expect(now()).toBe(100); // same turn: the cached value
    expect(reads).toBe(1);
    await Promise.resolve(); // the turn's microtasks ran
    expect(now()).toBe(105);
    expect(reads).toBe(2);
    await new Promise((r) => setTimeout(r, 1));
    t = 110;
    expect(now()).toBe(110);
    expect(reads).toBe(3);
  });

  it('defaults to performance.now and never goes backwards', async () => {
    const now = turnClock();
    const a = now();
    await new Promise((r) => setTimeout(r, 5));
    const b = now();
    expect(b).toBeGreaterThan(a);
  });
});
