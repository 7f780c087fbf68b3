import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeFrame, type CanFrame } from '../../../src/core/frame.js';
import { TxQueue, type TxDropReason, type TxQueueOptions, type WriteOutcome } from '../../../src/core/tx-queue.js';
import { originOf } from '../../support/origin.js';

/** A queue on a manual clock that records what it reports. */
function setup(over: Partial<TxQueueOptions> = {}) {
  const clock = { t: 1000 };
  const sent: [number, number][] = [];
  const dropped: [TxDropReason, number][] = [];
  const q = new TxQueue({
    capacity: 8,
    maxAge: 2000,
    now: () => clock.t,
    onSent: (f, origin) => sent.push([f.data[0], origin.session]),
    onDropped: (r, n) => dropped.push([r, n]),
    ...over,
  });
  return { q, clock, sent, dropped };
}

const frame = (n: number): CanFrame => makeFrame({ id: 0x100, data: [n] });

describe('TxQueue', () => {
  it('writes frames in order and reports each with its origin', () => {
    const { q, sent } = setup();
    for (let i = 0; i < 5; i++) expect(q.push(frame(i), originOf(10 + i))).toEqual({ ok: true });
    expect(q.depth).toBe(5);
    expect(q.pump(() => 'sent')).toEqual({ state: 'idle' });
    expect(sent).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
      [4, 14],
    ]);
    expect(q.depth).toBe(0);
    expect(q.stats()).toMatchObject({ enqueued: 5, sent: 5, highWater: 5 });
  });

  it('refuses a frame when full, without reporting it through onDropped', () => {
    const { q, dropped } = setup({ capacity: 3 });
    for (let i = 0; i < 3; i++) q.push(frame(i), originOf(0));
    expect(q.push(frame(3), originOf(0))).toEqual({ ok: false, reason: 'queue_full' });
    expect(q.stats().dropped.queue_full).toBe(1);
    expect(dropped).toEqual([]);
    // the ring wraps correctly after draining part of it
    let n = 0;
    q.pump(() => (n++ < 2 ? 'sent' : 'wait'));
    expect(q.push(frame(4), originOf(0))).toEqual({ ok: true });
    expect(q.push(frame(5), originOf(0))).toEqual({ ok: true });
    const order: number[] = [];
    q.pump((f) => (order.push(f.data[0]), 'sent'));
    expect(order).toEqual([2, 4, 5]);
  });

  it('retries a busy head in order with a 1 → 2 → 4 → 5 ms capped backoff, losing nothing', () => {
    const { q, clock, sent } = setup();
    for (let i = 0; i < 4; i++) q.push(frame(i), originOf(0));
    const delays: number[] = [];
    let refusals = 5;
    const write = (): WriteOutcome => (refusals-- > 0 ? 'busy' : 'sent');
    for (;;) {
      const r = q.pump(write);
      if (r.state !== 'retry') {
        expect(r).toEqual({ state: 'idle' });
        break;
      }
      delays.push(r.delayMs);
      clock.t += r.delayMs;
    }
    expect(delays).toEqual([1, 2, 4, 5, 5]);
    expect(sent.map(([d]) => d)).toEqual([0, 1, 2, 3]);
    expect(q.stats().busy).toBe(5);
  });

  it('resets the backoff after a success and reports how long the device has been busy', () => {
    const { q, clock } = setup();
    q.push(frame(0), originOf(0));
    q.push(frame(1), originOf(0));
    let calls = 0;
    const script: WriteOutcome[] = ['busy', 'busy', 'sent', 'busy'];
    const r1 = q.pump(() => script[calls++]);
    expect(r1).toEqual({ state: 'retry', delayMs: 1, busyForMs: 0 });
    clock.t += 1;
    const r2 = q.pump(() => script[calls++]);
    expect(r2).toEqual({ state: 'retry', delayMs: 2, busyForMs: 1 });
    clock.t += 2;
    const r3 = q.pump(() => script[calls++]);
    expect(r3).toEqual({ state: 'retry', delayMs: 1, busyForMs: 0 });
  });

  it('a device refusing for 50 ms: every frame arrives in order, none lost', () => {
    const { q, clock, sent, dropped } = setup({ capacity: 64 });
    for (let i = 0; i < 40; i++) q.push(frame(i), originOf(0));
    const blockedUntil = clock.t + 50;
    let busy = 0;
    for (let guard = 0; guard < 1000; guard++) {
      const r = q.pump(() => (clock.t < blockedUntil ? (busy++, 'busy') : 'sent'));
      if (r.state === 'idle') break;
      if (r.state === 'retry') clock.t += r.delayMs;
    }
    expect(sent.map(([d]) => d)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(dropped).toEqual([]);
    expect(busy).toBeGreaterThan(5);
    expect(q.stats().busy).toBe(busy);
  });

  it('drops frames older than maxAge as stale and sends the fresh ones', () => {
    const { q, clock, sent, dropped } = setup({ capacity: 300, maxAge: 2000 });
    // 200 frames queued over 1 s while the bus is blocked for 5 s
    for (let i = 0; i < 200; i++) {
      q.push(frame(i % 256), originOf(0));
      clock.t += 5;
    }
    const blockedUntil = clock.t + 4000;
    const onWire: number[] = [];
    for (let guard = 0; guard < 100_000; guard++) {
      const r = q.pump((f) => {
        if (clock.t < blockedUntil) return 'busy';
        onWire.push(f.data[0]);
        return 'sent';
      });
      if (r.state === 'idle') break;
      if (r.state === 'retry') clock.t += r.delayMs;
    }
    expect(onWire).toEqual([]);
    const stale = dropped.filter(([r]) => r === 'stale').reduce((a, [, n]) => a + n, 0);
    expect(stale).toBe(200);
    expect(q.stats().dropped.stale).toBe(200);
    expect(sent).toEqual([]);
  });

  it('sends what is still fresh after an outage and drops only what aged out', () => {
    const { q, clock, sent } = setup({ capacity: 16, maxAge: 100 });
    q.push(frame(1), originOf(0)); // t=1000
    clock.t += 60;
    q.push(frame(2), originOf(0)); // t=1060
    clock.t += 60; // t=1120: frame 1 is 120 ms old, frame 2 is 60 ms old
    expect(q.nextExpiryIn()).toBe(0);
    q.pump(() => 'sent');
    expect(sent.map(([d]) => d)).toEqual([2]);
    expect(q.stats().dropped.stale).toBe(1);
  });

  it('maxAge 0 never expires; setMaxAge applies to frames already queued', () => {
    const { q, clock } = setup({ maxAge: 0 });
    q.push(frame(1), originOf(0));
    clock.t += 1_000_000;
    expect(q.expire()).toBe(0);
    expect(q.nextExpiryIn()).toBeNull();
    q.setMaxAge(500);
    expect(q.expire()).toBe(1);
  });

  it('nextExpiryIn tells when the head turns stale', () => {
    const { q, clock } = setup({ maxAge: 2000 });
    expect(q.nextExpiryIn()).toBeNull();
    q.push(frame(1), originOf(0));
    clock.t += 500;
    expect(q.nextExpiryIn()).toBe(1500);
  });

  it('wait and down block without dropping; clear() drops the backlog with its reason', () => {
    const { q, dropped } = setup();
    q.push(frame(1), originOf(0));
    q.push(frame(2), originOf(0));
    expect(q.pump(() => 'wait')).toEqual({ state: 'blocked', reason: 'wait' });
    expect(q.pump(() => 'down')).toEqual({ state: 'blocked', reason: 'down' });
    expect(q.depth).toBe(2);
    expect(q.clear('link_down')).toBe(2);
    expect(dropped).toEqual([['link_down', 2]]);
    expect(q.depth).toBe(0);
    expect(q.clear('link_down')).toBe(0);
    expect(dropped).toHaveLength(1);
  });

  it('a frame the device can never take is dropped with its reason and the rest go on', () => {
    const { q, sent, dropped } = setup();
    q.push(frame(1), originOf(0));
    q.push(frame(2), originOf(0));
    q.push(frame(3), originOf(0));
    q.pump((f) => (f.data[0] === 2 ? { drop: 'fd_unsupported' } : 'sent'));
    expect(sent.map(([d]) => d)).toEqual([1, 3]);
    expect(dropped).toEqual([['fd_unsupported', 1]]);
  });

  it('writes at most maxBurst frames per pump and asks to be called again at once', () => {
    const { q } = setup({ capacity: 10, maxBurst: 4 });
    for (let i = 0; i < 10; i++) q.push(frame(i), originOf(0));
    expect(q.pump(() => 'sent')).toEqual({ state: 'retry', delayMs: 0, busyForMs: 0 });
    expect(q.depth).toBe(6);
  });

  it('refuse() counts in stats without onDropped', () => {
    const { q, dropped } = setup();
    q.refuse('link_down');
    q.refuse('fd_unsupported');
    expect(q.stats().dropped).toMatchObject({ link_down: 1, fd_unsupported: 1 });
    expect(dropped).toEqual([]);
  });

  it('rejects a capacity below 1', () => {
    expect(() => setup({ capacity: 0 })).toThrow(RangeError);
  });

  it('property: every pushed frame is sent, dropped or still queued, and sent frames keep their order', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 700 }) }),
      fc.record({
        kind: fc.constant('pump' as const),
        outcomes: fc.array(fc.constantFrom<WriteOutcome>('sent', 'busy', 'wait', 'down', { drop: 'malformed' }), { minLength: 1, maxLength: 6 }),
      }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (ops, capacity) => {
        const { q, clock, sent, dropped } = setup({ capacity, maxAge: 1000 });
        let pushed = 0;
        let refused = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            if (q.push(frame(pushed & 0xff), originOf(pushed)).ok) pushed++;
            else refused++;
          } else if (o.kind === 'tick') clock.t += o.ms;
          else if (o.kind === 'clear') q.clear('link_down');
          else {
            let k = 0;
            q.pump(() => o.outcomes[Math.min(k++, o.outcomes.length - 1)]);
          }
          expect(q.depth).toBeLessThanOrEqual(capacity);
        }
        const droppedCount = dropped.reduce((a, [, n]) => a + n, 0);
        expect(sent.length + droppedCount + q.depth).toBe(pushed);
        expect(q.stats().dropped.queue_full).toBe(refused);
        const origins = sent.map(([, o]) => o);
        expect(origins).toEqual([...origins].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
