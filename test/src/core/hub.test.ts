import { describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/core/frame.js';
import { Hub, type HubSubscriber } from '../../../src/core/hub.js';

/** A subscriber whose queue the test drains by hand (a stalled client never drains). */
class FakeClient implements HubSubscriber {
  queue: number[] = [];
  drops = 0;
  kicked = false;
  constructor(readonly id: number) {}
  queueDepth(): number {
    return this.queue.length;
  }
  enqueue(frame: ReturnType<typeof makeFrame>): void {
    this.queue.push(frame.data[0]);
  }
  kick(): void {
    this.kicked = true;
  }
  drain(): number[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }
}

const frame = (n: number) => makeFrame({ id: 0x100, data: [n] });
const bytes = new Uint8Array(6);

describe('Hub', () => {
  it('delivers every frame to every subscriber in bus order', () => {
    const hub = new Hub({ capacity: 100, policy: 'drop' });
    const a = new FakeClient(1);
    const b = new FakeClient(2);
    hub.add(a);
    hub.add(b);
    for (let n = 0; n < 50; n++) hub.broadcast(frame(n), bytes);
    const expected = Array.from({ length: 50 }, (_, n) => n);
    expect(a.drain()).toEqual(expected);
    expect(b.drain()).toEqual(expected);
    expect(hub.counters.broadcasts).toBe(50);
    expect(hub.counters.lastFanout).toBe(2);
  });

  it('skips the sender of an echoed frame', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const a = new FakeClient(1);
    const b = new FakeClient(2);
    hub.add(a);
    hub.add(b);
    expect(hub.broadcast(frame(7), bytes, 1)).toBe(1);
    expect(a.queue).toEqual([]);
    expect(b.queue).toEqual([7]);
  });

  it('drop policy: a stalled client loses the newest frames, counted; the others lose nothing', () => {
    const drops: number[] = [];
    const hub = new Hub({ capacity: 4, policy: 'drop', onDrop: (s) => drops.push(s.id) });
    const stalled = new FakeClient(1);
    const healthy = new FakeClient(2);
    hub.add(stalled);
    hub.add(healthy);
    const got: number[] = [];
    for (let n = 0; n < 10; n++) {
      hub.broadcast(frame(n), bytes);
      got.push(...healthy.drain());
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stalled.queue).toEqual([0, 1, 2, 3]);
    expect(stalled.drops).toBe(6);
    expect(hub.counters.dropped).toBe(6);
    expect(drops).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('kick policy: a full client is removed and kicked once; the others continue', () => {
    const kicked: number[] = [];
    const hub = new Hub({ capacity: 3, policy: 'kick', onKick: (s) => kicked.push(s.id) });
    const stalled = new FakeClient(1);
    const healthy = new FakeClient(2);
    hub.add(stalled);
    hub.add(healthy);
    const got: number[] = [];
    for (let n = 0; n < 8; n++) {
      hub.broadcast(frame(n), bytes);
      got.push(...healthy.drain());
    }
    expect(stalled.kicked).toBe(true);
    expect(kicked).toEqual([1]);
    expect(hub.size).toBe(1);
    expect(hub.counters.kicked).toBe(1);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('removal during a broadcast does not skip or repeat anybody', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const subs = [1, 2, 3].map((id) => new FakeClient(id));
    subs.forEach((s) => hub.add(s));
    // subscriber 1 removes itself while being served
    subs[0].enqueue = function (f) {
      this.queue.push(f.data[0]);
      hub.remove(this);
    };
    hub.broadcast(frame(1), bytes);
    expect(subs.map((s) => s.queue)).toEqual([[1], [1], [1]]);
    hub.broadcast(frame(2), bytes);
    expect(subs.map((s) => s.queue)).toEqual([[1], [1, 2], [1, 2]]);
  });

  it('reports queue depth max and average', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const a = new FakeClient(1);
    const b = new FakeClient(2);
    hub.add(a);
    hub.add(b);
    hub.broadcast(frame(1), bytes);
    hub.broadcast(frame(2), bytes);
    b.drain();
    expect(hub.queueDepthStats()).toEqual({ max: 2, avg: 1 });
  });
});
