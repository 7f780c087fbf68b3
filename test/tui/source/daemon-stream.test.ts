import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/core/backoff.js';
import { daemonStream, DEFAULT_BACKOFF, type StreamItem } from '../../../tui/source/daemon-stream.js';
import { startFixtureControlServer, type FixtureControlServer } from '../../support/fixture-control-server.js';
import { makeClient, makeEvent, makeSnapshot } from '../fixtures.js';

let dir: string;
let sock: string;
let server: FixtureControlServer | null = null;
let ac: AbortController;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'top-stream-'));
  sock = path.join(dir, 'c.sock');
  ac = new AbortController();
});

afterEach(async () => {
  ac.abort();
  await server?.stop();
  server = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Pulls items until one matches, failing after `ms` (liveness, not speed). */
async function until<T extends StreamItem['type']>(
  it: AsyncIterator<StreamItem>,
  type: T,
  ms = 5000,
  seen: StreamItem[] = [],
): Promise<Extract<StreamItem, { type: T }>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no "${type}" item within ${ms} ms; saw ${seen.map((s) => s.type).join(',')}`);
    const r = await Promise.race([it.next(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), left))]);
    if (r === 'timeout') continue;
    if (r.done) throw new Error(`stream ended before "${type}"`);
    seen.push(r.value);
    if (r.value.type === type) return r.value as Extract<StreamItem, { type: T }>;
  }
}

const fastBackoff = { initialMs: 50, maxMs: 200, factor: 2 };

describe('daemonStream', () => {
  it('connects, yields snapshots at the interval and events as they happen, kicks over the same connection', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot());
    const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal })[Symbol.asyncIterator]();
    expect((await until(it, 'connecting')).attempt).toBe(1);
    const connected = await until(it, 'connected');
    expect(connected.hello.pid).toBe(4242);
    const first = await until(it, 'snapshot');
    expect(first.snapshot.clients.map((c) => c.id)).toEqual([1, 2]);
    const second = await until(it, 'snapshot');
    expect(second.snapshot.time).toBeGreaterThanOrEqual(first.snapshot.time);

    server.emit(makeEvent({ message: 'client #3 connected' }));
    expect((await until(it, 'event')).event.message).toBe('client #3 connected');

    expect(await connected.kick(2)).toBe(true);
    expect(await connected.kick(99)).toBe(false);
    expect(server.kicks).toEqual([2]);
    const after = await until(it, 'snapshot');
    expect(after.snapshot.clients.map((c) => c.id)).toEqual([1]);
    expect(after.snapshot.totals.kicked).toBe(2);
  });

  it('no daemon: yields waiting (not_running) with growing backoff, never throws, then connects when it appears', async () => {
    const seen: StreamItem[] = [];
    const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal, backoff: fastBackoff })[Symbol.asyncIterator]();
    const w1 = await until(it, 'waiting', 5000, seen);
    expect(w1).toMatchObject({ reason: 'not_running', attempt: 1, retryInMs: 50 });
    expect(w1.detail).toContain('ENOENT');
    const w2 = await until(it, 'waiting', 5000, seen);
    expect(w2).toMatchObject({ attempt: 2, retryInMs: 100 });
    server = await startFixtureControlServer(sock, makeSnapshot());
    await until(it, 'connected', 5000, seen);
    await until(it, 'snapshot', 5000, seen);
  });

  it('daemon restart: lost → waiting → connected again with fresh data; the old connection is closed', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot());
    const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal, backoff: fastBackoff })[Symbol.asyncIterator]();
    await until(it, 'snapshot');
    await server.stop();
    const lost = await until(it, 'waiting');
    expect(lost.reason).toBe('lost');
    expect(lost.attempt).toBe(1);
    server.state = makeSnapshot({ clients: [makeClient(7)] });
    await server.start();
    await until(it, 'connected');
    const fresh = await until(it, 'snapshot');
    expect(fresh.snapshot.clients.map((c) => c.id)).toEqual([7]);
    expect(server.connections).toBe(1);
  });

  it('a socket that is not an ampio-bridge: waiting with bad_hello', async () => {
    const net = await import('node:net');
    const impostor = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => impostor.listen(sock, r));
    try {
      const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal, backoff: fastBackoff })[Symbol.asyncIterator]();
      expect((await until(it, 'waiting')).reason).toBe('bad_hello');
    } finally {
      ac.abort();
      await new Promise<void>((r) => impostor.close(() => r()));
    }
  });

  it('abort ends the stream and closes the control connection (cleanup in finally)', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot());
    const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal })[Symbol.asyncIterator]();
    await until(it, 'snapshot');
    expect(server.connections).toBe(1);
    const pending = it.next();
    ac.abort();
    // Whatever was in flight drains, then the stream is done.
    let r = await pending;
    while (!r.done) r = await it.next();
    for (let i = 0; i < 50 && server.connections > 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(server.connections).toBe(0);
  });

  it('abort while waiting for a retry ends at once', async () => {
    const it = daemonStream({ socketPath: sock, intervalMs: 100, signal: ac.signal, backoff: { initialMs: 60_000, maxMs: 60_000, factor: 1 } })[
      Symbol.asyncIterator
    ]();
    await until(it, 'waiting');
    const pending = it.next();
    ac.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('backoff doubles from 250 ms up to 3 s', () => {
    const b = new Backoff({ initial: DEFAULT_BACKOFF.initialMs, max: DEFAULT_BACKOFF.maxMs, factor: DEFAULT_BACKOFF.factor });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([250, 500, 1000, 2000, 3000, 3000, 3000]);
  });
});
