import { describe, expect, it } from 'vitest';
import { FrameRing } from '../../../src/server/frame-ring.js';

describe('FrameRing', () => {
  it('one queued frame is written as the very same bytes (no copy)', () => {
    const r = new FrameRing(4);
    const b = Uint8Array.of(1, 2, 3);
    r.push(b);
    expect(r.take().bytes).toBe(b);
    expect([r.count, r.bytes]).toEqual([0, 0]);
  });

  it('several frames come out as one buffer, in order; counters follow', () => {
    const r = new FrameRing(4);
    r.push(Uint8Array.of(1));
    r.push(Uint8Array.of(2, 3));
    r.push(Uint8Array.of(4, 5, 6));
    expect([r.count, r.bytes, r.highWater]).toEqual([3, 6, 3]);
    expect([...r.take().bytes]).toEqual([1, 2, 3, 4, 5, 6]);
    r.push(Uint8Array.of(7));
    r.push(Uint8Array.of(8));
    expect([...r.take().bytes]).toEqual([7, 8]);
    expect(r.highWater).toBe(3);
  });

  it('clear() drops what is queued', () => {
    const r = new FrameRing(2);
    r.push(Uint8Array.of(1));
    r.push(Uint8Array.of(2));
    r.clear();
    expect([r.count, r.bytes]).toEqual([0, 0]);
    r.push(Uint8Array.of(3));
    expect([...r.take().bytes]).toEqual([3]);
  });

  it('take(maxBytes) gives whole frames that fit (one at least), oldest first, and wraps around', () => {
    const r = new FrameRing(4);
    for (let k = 0; k < 4; k++) r.push(new Uint8Array(5).fill(k));
    expect(r.take(12)).toMatchObject({ frames: 2 });
    r.push(new Uint8Array(5).fill(4));
    r.push(new Uint8Array(5).fill(5));
    const parts: number[][] = [];
    while (r.count > 0) {
      const { bytes } = r.take(3); // smaller than one frame: one frame per take
      parts.push([...new Set(bytes)]);
    }
    expect(parts).toEqual([[2], [3], [4], [5]]);
    expect(r.bytes).toBe(0);
  });
});
