import { describe, expect, it } from 'vitest';
import { type CanFrame, makeFrame as mk } from '../../../src/core/frame.js';
import { Hub, type HubEncoder, type HubSubscriber } from '../../../src/core/hub.js';

/** A subscriber whose queue the test drains by hand (a stalled client never drains). */
class FakeClient implements HubSubscriber {
  queue: number[] = [];
  drops = 0;
  kicked = false;
  constructor(readonly id: number) {}
  queueDepth(): number {
    return this.queue.length;
  }
  enqueue(bytes: Uint8Array): void {
    this.queue.push(bytes[0]);
  }
  dropped(): void {
    this.drops++;
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
/** An encoder that counts its calls; its "wire format" is the frame's first data byte. */
function countingEncoder(tag = 0): HubEncoder & { calls: number } {
  const e = {
    calls: 0,
    encode(f: CanFrame): Uint8Array {
      e.calls++;
      return Uint8Array.of(f.data[0] + tag);
    },
  };
  return e;
}
const enc = countingEncoder();
const makeFrame = mk;

describe('Hub', () => {
  it('delivers every frame to every subscriber in bus order', () => {
    const hub = new Hub({ capacity: 100, policy: 'drop' });
    const a = new FakeClient(1);
    const b = new FakeClient(2);
    hub.add(a, enc);
    hub.add(b, enc);
    for (let n = 0; n < 50; n++) hub.broadcast(frame(n), 0, 0);
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
    hub.add(a, enc);
    hub.add(b, enc);
    expect(hub.broadcast(frame(7), 1, 0)).toBe(1);
    expect(a.queue).toEqual([]);
    expect(b.queue).toEqual([7]);
  });

  it('drop policy: a stalled client loses the newest frames, counted; the others lose nothing', () => {
    const hub = new Hub({ capacity: 4, policy: 'drop' });
    const stalled = new FakeClient(1);
    const healthy = new FakeClient(2);
    hub.add(stalled, enc);
    hub.add(healthy, enc);
    const got: number[] = [];
    for (let n = 0; n < 10; n++) {
      hub.broadcast(frame(n), 0, 0);
      got.push(...healthy.drain());
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stalled.queue).toEqual([0, 1, 2, 3]);
    expect(stalled.drops).toBe(6);
    expect(hub.counters.dropped).toBe(6);
  });

  it('kick policy: a full client is removed and kicked once; the others continue', () => {
    const kicked: number[] = [];
    const hub = new Hub({ capacity: 3, policy: 'kick', onKick: (s) => kicked.push(s.id) });
    const stalled = new FakeClient(1);
    const healthy = new FakeClient(2);
    hub.add(stalled, enc);
    hub.add(healthy, enc);
    const got: number[] = [];
    for (let n = 0; n < 8; n++) {
      hub.broadcast(frame(n), 0, 0);
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
    subs.forEach((s) => hub.add(s, enc));
    // subscriber 1 removes itself while being served
    subs[0].enqueue = function (b: Uint8Array) {
      this.queue.push(b[0]);
      hub.remove(this);
    };
    hub.broadcast(frame(1), 0, 0);
    expect(subs.map((s) => s.queue)).toEqual([[1], [1], [1]]);
    hub.broadcast(frame(2), 0, 0);
    expect(subs.map((s) => s.queue)).toEqual([[1], [1, 2], [1, 2]]);
  });

  it('encodes a frame once per encoder in use, lazily, and shares the bytes', () => {
    const hub = new Hub({ capacity: 100, policy: 'drop' });
    const a = countingEncoder(0);
    const b = countingEncoder(100);
    const unused = countingEncoder(200);
    const seen: Uint8Array[] = [];
    const grab = (id: number): HubSubscriber => ({ id, queueDepth: () => 0, enqueue: (x) => void seen.push(x), dropped() {}, kick() {} });
    for (let id = 1; id <= 10; id++) hub.add(grab(id), id <= 5 ? a : b);
    hub.broadcast(frame(1), 0, 0);
    expect([a.calls, b.calls, unused.calls]).toEqual([1, 1, 0]);
    expect(hub.counters.encodes).toBe(1 + 1);
    expect(new Set(seen.slice(0, 5)).size).toBe(1); // one shared buffer for a's five subscribers
    expect(seen.map((x) => x[0])).toEqual([1, 1, 1, 1, 1, 101, 101, 101, 101, 101]);
    expect(hub.encodersInUse).toBe(2);
  });

  it('does not encode for an encoder whose only subscriber is the sender, or that nobody uses', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const a = countingEncoder();
    const b = countingEncoder();
    const x = new FakeClient(1);
    const y = new FakeClient(2);
    hub.add(x, a);
    hub.add(y, b);
    hub.broadcast(frame(3), 1, 0);
    expect([a.calls, b.calls]).toEqual([0, 1]);
    hub.remove(y);
    hub.broadcast(frame(4), 1, 0);
    expect([a.calls, b.calls]).toEqual([0, 1]);
    expect(hub.encodersInUse).toBe(1);
  });

  it('a filter refuses frames before encoding; an encoder returning null skips (neither is a drop)', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const a = countingEncoder();
    const odd = new FakeClient(1);
    const none = new FakeClient(2);
    hub.add(odd, a, { filter: (f) => f.data[0] % 2 === 1 });
    hub.add(none, { encode: () => null });
    for (let n = 0; n < 6; n++) hub.broadcast(frame(n), 0, 0);
    expect(odd.queue).toEqual([1, 3, 5]);
    expect(a.calls).toBe(3);
    expect(none.queue).toEqual([]);
    expect(hub.counters.dropped).toBe(0);
  });

  it('re-adding a subscriber replaces its encoder and filter (no duplicate delivery)', () => {
    const hub = new Hub({ capacity: 10, policy: 'drop' });
    const c = new FakeClient(1);
    hub.add(c, countingEncoder(0));
    hub.add(c, countingEncoder(50));
    hub.broadcast(frame(1), 0, 0);
    expect(c.queue).toEqual([51]);
    expect(hub.size).toBe(1);
    expect(hub.encodersInUse).toBe(1);
  });
});
