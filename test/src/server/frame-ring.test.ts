import { describe, expect, it } from 'vitest';
import { FrameRing } from '../../../src/server/frame-ring.js';

describe('FrameRing', () => {
  it('one queued frame is written as the very same bytes (no copy)', () => {
    const r = new FrameRing(4);
    const b = Uint8Array.of(1, 2, 3);
    r.push(b);
    expect(r.takeAll()).toBe(b);
    expect([r.count, r.bytes]).toEqual([0, 0]);
  });

  it('several frames come out as one buffer, in order; counters follow', () => {
    const r = new FrameRing(4);
    r.push(Uint8Array.of(1));
    r.push(Uint8Array.of(2, 3));
    r.push(Uint8Array.of(4, 5, 6));
    expect([r.count, r.bytes, r.highWater]).toEqual([3, 6, 3]);
    expect([...r.takeAll()]).toEqual([1, 2, 3, 4, 5, 6]);
    r.push(Uint8Array.of(7));
    r.push(Uint8Array.of(8));
    expect([...r.takeAll()]).toEqual([7, 8]);
    expect(r.highWater).toBe(3);
  });

  it('clear() drops what is queued', () => {
    const r = new FrameRing(2);
    r.push(Uint8Array.of(1));
    r.push(Uint8Array.of(2));
    r.clear();
    expect([r.count, r.bytes]).toEqual([0, 0]);
    r.push(Uint8Array.of(3));
    expect([...r.takeAll()]).toEqual([3]);
  });
});
