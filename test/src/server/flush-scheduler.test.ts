// The shared flush scheduler of a bus, with real timers and the real clock: flushes come
// after each client's own interval (never before, give or take the timer's 1 ms grain),
// once per batch, and not at all for a batch that was already written or a closed client.
import { describe, expect, it } from 'vitest';
import { type Flushable, FlushScheduler } from '../../../src/server/flush-scheduler.js';

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class FakeClient implements Flushable {
  flushDeadline = -1;
  readonly flushedAt: number[] = [];
  constructor(readonly flushInterval: number) {}
  flush(): void {
    this.flushDeadline = -1;
    this.flushedAt.push(now());
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const t0 = now();
  while (!cond()) {
    if (now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

describe('FlushScheduler', () => {
  it('interval 0: flushes every scheduled client once, in the next microtask, in order', async () => {
    const s = new FlushScheduler(now);
    const order: number[] = [];
    const clients = [0, 1, 2].map((k) => {
      const c = new FakeClient(0);
      const flush = c.flush.bind(c);
      c.flush = () => {
        order.push(k);
        flush();
      };
      return c;
    });
    for (const c of clients) s.schedule(c);
    expect(clients.every((c) => c.flushDeadline === 0)).toBe(true);
    expect(order).toEqual([]); // not synchronously: frames of this turn go in the same write
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    expect(s.pending).toBe(0);
  });

  it('interval 0: a client that wrote its batch itself meanwhile is not flushed again', async () => {
    const s = new FlushScheduler(now);
    const c = new FakeClient(0);
    s.schedule(c);
    c.flush(); // batch full: written at once
    await Promise.resolve();
    expect(c.flushedAt).toHaveLength(1);
  });

  it('flushes after the interval, not before, with one timer for clients scheduled together', async () => {
    const s = new FlushScheduler(now);
    const t0 = now();
    const a = new FakeClient(30);
    const b = new FakeClient(30);
    s.schedule(a);
    s.schedule(b);
    await until(() => a.flushedAt.length > 0 && b.flushedAt.length > 0, 'both flushes');
    for (const c of [a, b]) {
      expect(c.flushedAt).toHaveLength(1);
      expect(c.flushedAt[0] - t0).toBeGreaterThanOrEqual(30 - 1);
    }
    expect(s.pending).toBe(0);
  });

  it('a later batch waits for its own deadline; an earlier one does not wait for it', async () => {
    const s = new FlushScheduler(now);
    const early = new FakeClient(20);
    const late = new FakeClient(20);
    const t0 = now();
    s.schedule(early);
    await sleep(12);
    const tLate = now();
    s.schedule(late);
    await until(() => late.flushedAt.length > 0, 'the late flush');
    expect(early.flushedAt).toHaveLength(1);
    expect(early.flushedAt[0] - t0).toBeGreaterThanOrEqual(20 - 1);
    expect(early.flushedAt[0]).toBeLessThan(late.flushedAt[0]);
    expect(late.flushedAt[0] - tLate).toBeGreaterThanOrEqual(20 - 1);
  });

  it('a shorter interval scheduled after a longer one is not held back by it', async () => {
    const s = new FlushScheduler(now);
    const slow = new FakeClient(300);
    const fast = new FakeClient(10);
    s.schedule(slow);
    s.schedule(fast);
    await until(() => fast.flushedAt.length > 0, 'the fast flush');
    expect(slow.flushedAt).toHaveLength(0);
    await until(() => slow.flushedAt.length > 0, 'the slow flush');
    expect(fast.flushedAt).toHaveLength(1);
  });

  it('skips a batch already written (batch full) and one whose client closed', async () => {
    const s = new FlushScheduler(now);
    const full = new FakeClient(15);
    const closed = new FakeClient(15);
    const normal = new FakeClient(15);
    s.schedule(full);
    s.schedule(closed);
    s.schedule(normal);
    full.flush(); // wrote its batch itself
    closed.flushDeadline = -1; // what ClientConnection does on close
    await until(() => normal.flushedAt.length > 0, 'the normal flush');
    await sleep(30);
    expect(full.flushedAt).toHaveLength(1);
    expect(closed.flushedAt).toHaveLength(0);
    expect(s.pending).toBe(0);
  });

  it('a client rescheduled after writing its batch is flushed for the new batch only', async () => {
    const s = new FlushScheduler(now);
    const c = new FakeClient(20);
    s.schedule(c);
    await sleep(10);
    c.flush(); // batch full after 10 ms
    const tNew = now();
    s.schedule(c); // next frame starts a new batch
    await until(() => c.flushedAt.length > 1, 'the second flush');
    expect(c.flushedAt).toHaveLength(2);
    expect(c.flushedAt[1] - tNew).toBeGreaterThanOrEqual(20 - 1);
  });

  it('flushWaiting (a paced read ended): writes every waiting batch at once, then the timer finds nothing; later batches are timed again', async () => {
    const s = new FlushScheduler(now);
    const a = new FakeClient(50);
    const b = new FakeClient(50);
    const written = new FakeClient(50);
    s.schedule(a);
    s.schedule(b);
    s.schedule(written);
    written.flush(); // its batch filled up meanwhile
    const t0 = now();
    s.flushWaiting();
    expect(a.flushedAt).toHaveLength(1);
    expect(b.flushedAt).toHaveLength(1);
    expect(written.flushedAt).toHaveLength(1); // only its own flush, not a second one
    expect(a.flushedAt[0] - t0).toBeLessThan(50);
    expect(s.pending).toBe(0);
    // the next batch waits its full interval again (the one Timeout is re-armed)
    const t1 = now();
    s.schedule(a);
    await until(() => a.flushedAt.length > 1, 'the timed flush');
    expect(a.flushedAt[1] - t1).toBeGreaterThanOrEqual(50 - 1);
    await sleep(70);
    expect(a.flushedAt).toHaveLength(2);
    expect(b.flushedAt).toHaveLength(1);
    s.flushWaiting(); // nothing waits: nothing happens
    expect(a.flushedAt).toHaveLength(2);
  });
  it('holdTimers (a paced read is being delivered): its batches arm no timer and are written at its end', async () => {
    const s = new FlushScheduler(now);
    const a = new FakeClient(20);
    const b = new FakeClient(20);
    s.holdTimers();
    s.schedule(a);
    s.schedule(b);
    // no timer was armed: well past the interval nothing was written
    await sleep(80);
    expect(a.flushedAt).toHaveLength(0);
    expect(s.pending).toBe(2);
    s.flushWaiting();
    expect(a.flushedAt).toHaveLength(1);
    expect(b.flushedAt).toHaveLength(1);
    // the hold ended with it: the next batch is timed again
    s.schedule(a);
    await until(() => a.flushedAt.length > 1, 'the timed flush after the hold');
    expect(b.flushedAt).toHaveLength(1);
  });

  it('holdTimers: a batch already waiting for its timer before the hold keeps it', async () => {
    const s = new FlushScheduler(now);
    const early = new FakeClient(20);
    const t0 = now();
    s.schedule(early);
    s.holdTimers();
    await until(() => early.flushedAt.length === 1, 'the flush armed before the hold');
    expect(early.flushedAt[0] - t0).toBeGreaterThanOrEqual(20 - 1);
    s.flushWaiting();
  });
});
