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

describe('FrameRing queue times', () => {
  it('drops the oldest frames while they are too old, keeping bytes and order right, across the wrap', () => {
    const r = new FrameRing(4);
    r.push(Uint8Array.of(1), 10);
    r.push(Uint8Array.of(2, 2), 20);
    r.take(1); // head moves: the next pushes wrap around
    r.push(Uint8Array.of(3), 30);
    r.push(Uint8Array.of(4, 4, 4), 40);
    r.push(Uint8Array.of(5), 50);
    expect(r.oldestAt()).toBe(20);
    expect(r.dropOldest((at) => at < 35)).toBe(2);
    expect(r.oldestAt()).toBe(40);
    expect(r.count).toBe(2);
    expect(r.bytes).toBe(4);
    expect([...r.take().bytes]).toEqual([4, 4, 4, 5]);
    expect(r.oldestAt()).toBeNull();
    expect(r.dropOldest(() => true)).toBe(0);
  });
});
