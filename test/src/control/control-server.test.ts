// The control socket over real Unix sockets in temp dirs, with a fake daemon source.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient, ControlRequestError, ControlUnavailableError } from '../../../src/control/control-client.js';
import { ControlSocketError, ControlSocketInUseError, createControlServer, type ControlServer } from '../../../src/control/control-server.js';
import { CONTROL_MAX_LINE, STREAM_INTERVAL_MAX_MS, STREAM_INTERVAL_MIN_MS, type DaemonEvent, type Snapshot } from '../../../src/control/protocol.js';
import { FakeControlSource, fakeSnapshot } from '../../support/fake-snapshot.js';

let dir: string;
let sockPath: string;
let source: FakeControlSource;
let logs: Array<{ level: string; event: string; fields?: Record<string, unknown> }>;
const servers: ControlServer[] = [];
const clients: ControlClient[] = [];

function makeServer(over: Partial<Parameters<typeof createControlServer>[0]> = {}): ControlServer {
  const s = createControlServer({
    path: sockPath,
    source,
    helloInfo: { daemon: '9.9.9', pid: 777 },
    log: (level, event, fields) => logs.push({ level, event, fields }),
    ...over,
  });
  servers.push(s);
  return s;
}

async function connect(): Promise<ControlClient> {
  const c = await ControlClient.connect(sockPath, { timeoutMs: 5000 });
  clients.push(c);
  return c;
}

/** A raw NDJSON connection, for what the typed client never sends. */
async function raw(): Promise<{ sock: net.Socket; lines: unknown[]; closed: Promise<void>; waitLines(n: number): Promise<unknown[]> }> {
  const sock = net.createConnection({ path: sockPath });
  sock.setEncoding('utf8');
  const lines: unknown[] = [];
  let buf = '';
  const waiters: Array<() => void> = [];
  sock.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  sock.on('error', () => {});
  const closed = once(sock, 'close').then(() => undefined);
  await once(sock, 'connect');
  return {
    sock,
    lines,
    closed,
    async waitLines(n) {
      while (lines.length < n) {
        await Promise.race([new Promise<void>((r) => waiters.push(r)), closed]);
        if (sock.destroyed && lines.length < n) throw new Error(`closed after ${lines.length} lines`);
      }
      return lines;
    },
  };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-control-'));
  sockPath = path.join(dir, 'sub', 'control.sock');
  source = new FakeControlSource();
  logs = [];
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('control server', () => {
  it('greets with hello, creates the directory and sets mode 0660', async () => {
    await makeServer().start();
    const st = fs.statSync(sockPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    const c = await connect();
    expect(c.hello).toEqual({ type: 'hello', version: 1, daemon: '9.9.9', pid: 777 });
  });

  it('answers a snapshot request with the source snapshot as-is', async () => {
    await makeServer().start();
    const c = await connect();
    const snap = await c.snapshot();
    expect(snap).toEqual(fakeSnapshot());
    expect(source.snapshotCalls).toBe(1);
  });

  it('streams snapshots at the requested interval and pushes events', async () => {
    await makeServer().start();
    const c = await connect();
    const snaps: Snapshot[] = [];
    const events: DaemonEvent[] = [];
    c.on('snapshot', (s: Snapshot) => snaps.push(s));
    c.on('event', (e: DaemonEvent) => events.push(e));
    await c.subscribe(STREAM_INTERVAL_MIN_MS);
    // the first snapshot comes right away, then one per interval
    while (snaps.length < 3) await once(c, 'snapshot');
    source.snap = fakeSnapshot({ time: 42 });
    while (snaps.at(-1)!.time !== 42) await once(c, 'snapshot');
    const ev: DaemonEvent = { time: 1, kind: 'bus_state', bus: 'can0', from: 'error-active', to: 'bus-off', message: 'can0 bus-off' };
    source.emit(ev);
    await once(c, 'event');
    expect(events).toEqual([ev]);
  });

  it('bounds the interval and reports the one it uses', async () => {
    await makeServer().start();
    const r = await raw();
    await r.waitLines(1);
    r.sock.write('{"id":1,"type":"subscribe","interval":1}\n{"id":2,"type":"subscribe","interval":99999999}\n{"id":3,"type":"subscribe"}\n');
    const lines = (await r.waitLines(7)) as Array<Record<string, unknown>>;
    const replies = lines.filter((l) => l.type === 'reply');
    expect(replies.map((l) => l.result)).toEqual([
      { interval: STREAM_INTERVAL_MIN_MS, events: true },
      { interval: STREAM_INTERVAL_MAX_MS, events: true },
      { interval: 500, events: true },
    ]);
    r.sock.destroy();
  });

  it('stops the stream on unsubscribe', async () => {
    await makeServer().start();
    const c = await connect();
    let n = 0;
    c.on('snapshot', () => n++);
    c.on('event', () => n++);
    await c.subscribe(STREAM_INTERVAL_MIN_MS);
    await c.unsubscribe();
    const after = n;
    source.emit({ time: 1, kind: 'backend_absent', bus: 'can0', message: 'gone' });
    await new Promise((r) => setTimeout(r, 3 * STREAM_INTERVAL_MIN_MS));
    await c.ping(); // round trip: anything sent before the reply has arrived
    expect(n).toBe(after);
  });

  it('serves two subscribers independently', async () => {
    await makeServer().start();
    const a = await connect();
    const b = await connect();
    const evA: DaemonEvent[] = [];
    const evB: DaemonEvent[] = [];
    a.on('event', (e: DaemonEvent) => evA.push(e));
    b.on('event', (e: DaemonEvent) => evB.push(e));
    await a.subscribe(STREAM_INTERVAL_MIN_MS);
    await b.subscribe(1000);
    source.emit({ time: 1, kind: 'client_connected', clientId: 9, remote: '127.0.0.1:1', message: 'hi' });
    await Promise.all([evA.length ? null : once(a, 'event'), evB.length ? null : once(b, 'event')]);
    expect(evA).toHaveLength(1);
    expect(evB).toHaveLength(1);
    const aClosed = once(a, 'close');
    a.close();
    await aClosed;
    source.emit({ time: 2, kind: 'client_disconnected', clientId: 9, message: 'bye' });
    while (evB.length < 2) await once(b, 'event');
    expect(evB.map((e) => e.kind)).toEqual(['client_connected', 'client_disconnected']);
    expect(await b.snapshot()).toEqual(fakeSnapshot());
  });

  it('kicks a client by id and says false for an unknown id', async () => {
    await makeServer().start();
    const c = await connect();
    expect(await c.kick(2)).toBe(true);
    expect(await c.kick(2)).toBe(false);
    expect(await c.kick(99)).toBe(false);
    expect(source.kicked).toEqual([2]);
  });

  it('answers unknown and malformed requests with error replies and keeps the connection', async () => {
    await makeServer().start();
    const r = await raw();
    await r.waitLines(1);
    r.sock.write(
      'not json\n[1,2]\n{"type":"snapshot"}\n{"id":5}\n{"id":6,"type":"reboot"}\n{"id":7,"type":"kick","clientId":"x"}\n{"id":8,"type":"subscribe","interval":"fast"}\n{"id":9,"type":"ping"}\n',
    );
    const lines = (await r.waitLines(9)) as Array<Record<string, unknown>>;
    expect(lines.slice(1).map((l) => [l.type, l.id, l.code ?? null])).toEqual([
      ['error', null, 'bad_request'],
      ['error', null, 'bad_request'],
      ['error', null, 'bad_request'],
      ['error', 5, 'bad_request'],
      ['error', 6, 'unknown_type'],
      ['error', 7, 'bad_request'],
      ['error', 8, 'bad_request'],
      ['reply', 9, null],
    ]);
    expect(r.sock.destroyed).toBe(false);
    // Names of Object.prototype members are unknown types too, never handlers.
    r.sock.write('{"id":10,"type":"constructor"}\n{"id":11,"type":"__proto__"}\n{"id":12,"type":"toString"}\n');
    const more = (await r.waitLines(12)) as Array<Record<string, unknown>>;
    expect(more.slice(9).map((l) => [l.type, l.id, l.code ?? null])).toEqual([
      ['error', 10, 'unknown_type'],
      ['error', 11, 'unknown_type'],
      ['error', 12, 'unknown_type'],
    ]);
    r.sock.destroy();
  });

  it('a typed client gets ControlRequestError for an error reply', async () => {
    source.snapshot = () => {
      throw new Error('boom');
    };
    await makeServer().start();
    const c = await connect();
    const err = await c.snapshot().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlRequestError);
    expect((err as ControlRequestError).code).toBe('internal');
    expect(logs.some((l) => l.event === 'control_snapshot_failed')).toBe(true);
    expect(await c.kick(1)).toBe(true); // the connection survives
  });

  it('a flood of garbage closes only that connection', async () => {
    await makeServer().start();
    const good = await connect();
    const r = await raw();
    await r.waitLines(1);
    r.sock.write('garbage\n'.repeat(1000));
    await r.closed;
    // at most maxBadRequests+1 error replies, then closed
    expect(r.lines.length).toBeLessThanOrEqual(1 + 17);
    expect(logs.some((l) => l.event === 'control_client_dropped' && l.fields?.reason === 'too_many_bad_requests')).toBe(true);
    expect(await good.snapshot()).toEqual(fakeSnapshot());
  });

  it('a line longer than CONTROL_MAX_LINE closes only that connection', async () => {
    await makeServer().start();
    const good = await connect();
    const r = await raw();
    await r.waitLines(1);
    // no newline at all: the server must not buffer it forever
    r.sock.write(`{"id":1,"type":"ping","pad":"${'x'.repeat(CONTROL_MAX_LINE + 10)}`);
    await r.closed;
    expect((r.lines[1] as Record<string, unknown>).code).toBe('too_long');
    expect(await good.snapshot()).toEqual(fakeSnapshot());
  });

  it('drops a reader that does not read, without blocking others or the source', async () => {
    // a big snapshot so the kernel socket buffers fill quickly
    source.snap = fakeSnapshot({ daemon: { ...fakeSnapshot().daemon, config: { pad: 'y'.repeat(200_000) } } });
    await makeServer({ maxBufferedBytes: 256 * 1024 }).start();
    const r = await raw();
    await r.waitLines(1);
    r.sock.pause(); // never reads again
    r.sock.write(`{"id":1,"type":"subscribe","interval":${STREAM_INTERVAL_MIN_MS}}\n`);
    // fire events quickly: these are written even when not drained, so the bound trips
    const good = await connect();
    for (let i = 0; i < 200 && !logs.some((l) => l.event === 'control_client_dropped'); i++) {
      for (let j = 0; j < 100; j++) source.emit({ time: i, kind: 'bus_state', message: 'x'.repeat(1000) });
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(logs.filter((l) => l.event === 'control_client_dropped').map((l) => l.fields?.reason)).toEqual(['slow_reader']);
    expect((await good.snapshot()).daemon.config.pad).toHaveLength(200_000);
    r.sock.destroy();
  });

  it('skips stream snapshots while a reader is not drained instead of queueing them', async () => {
    source.snap = fakeSnapshot({ daemon: { ...fakeSnapshot().daemon, config: { pad: 'z'.repeat(400_000) } } });
    await makeServer({ maxBufferedBytes: 64 * 1024 * 1024 }).start();
    const r = await raw();
    await r.waitLines(1);
    r.sock.pause();
    r.sock.write(`{"id":1,"type":"subscribe","interval":${STREAM_INTERVAL_MIN_MS}}\n`);
    // 10 intervals pass; a queueing server would have taken ~11 snapshots
    await new Promise((res) => setTimeout(res, 10 * STREAM_INTERVAL_MIN_MS + 50));
    expect(source.snapshotCalls).toBeLessThan(5);
    expect(source.snapshotCalls).toBeGreaterThanOrEqual(1);
    r.sock.destroy();
  });

  it('replaces a stale socket file left by a crashed daemon', async () => {
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    // a bound-then-abandoned socket: the file stays, nobody listens
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => process.exit(0))`]);
    expect(fs.lstatSync(sockPath).isSocket()).toBe(true);
    await expect(ControlClient.connect(sockPath)).rejects.toMatchObject({ code: 'not_running' });
    await makeServer().start();
    expect(logs.some((l) => l.event === 'control_socket_stale_removed')).toBe(true);
    expect((await connect()).hello.pid).toBe(777);
  });

  it('refuses to start on a live socket (second daemon) and leaves the first untouched', async () => {
    await makeServer().start();
    const second = makeServer({ helloInfo: { daemon: 'second', pid: 1 } });
    const err = await second.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlSocketInUseError);
    expect((err as Error).message).toContain(sockPath);
    expect((err as Error).message).toContain('--control-socket');
    expect((await connect()).hello.daemon).toBe('9.9.9');
  });

  it('refuses to replace a file that is not a socket', async () => {
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    fs.writeFileSync(sockPath, 'precious');
    const err = await makeServer()
      .start()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlSocketError);
    expect(fs.readFileSync(sockPath, 'utf8')).toBe('precious');
  });

  it('a daemon restart: clients see close, a new daemon on the same path serves them', async () => {
    const first = makeServer();
    await first.start();
    const c = await connect();
    await c.subscribe();
    const closed = once(c, 'close');
    await first.stop();
    await closed;
    expect(fs.existsSync(sockPath)).toBe(false);
    expect(source.listenerCount).toBe(0);
    await expect(ControlClient.connect(sockPath)).rejects.toMatchObject({ code: 'not_running' });
    await makeServer({ helloInfo: { daemon: 'restarted', pid: 2 } }).start();
    expect((await connect()).hello.daemon).toBe('restarted');
  });

  it('pending requests reject with "closed" when the daemon goes away', async () => {
    // a peer that greets, then drops the connection as soon as a request arrives
    const dying = net.createServer((s) => {
      s.write('{"type":"hello","version":1,"daemon":"x","pid":1}\n');
      s.on('data', () => s.destroy());
    });
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    await new Promise<void>((r) => dying.listen(sockPath, r));
    try {
      const c = await connect();
      const closed = once(c, 'close');
      await expect(c.snapshot()).rejects.toMatchObject({ code: 'closed' });
      await closed;
      expect(c.isClosed).toBe(true);
      await expect(c.ping()).rejects.toMatchObject({ code: 'closed' });
    } finally {
      dying.close();
    }
  });
});

describe('control client connect errors', () => {
  it('not_running when there is no socket, with what to do', async () => {
    const err = await ControlClient.connect(sockPath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlUnavailableError);
    expect(err).toMatchObject({ code: 'not_running', path: sockPath });
    expect((err as Error).message).toMatch(/systemctl start ampio-bridge/);
  });

  it('bad_hello when something else answers', async () => {
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    const other = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n\n'));
    await new Promise<void>((r) => other.listen(sockPath, r));
    try {
      await expect(ControlClient.connect(sockPath)).rejects.toMatchObject({ code: 'bad_hello' });
    } finally {
      other.close();
    }
  });

  it('bad_hello for another protocol version', async () => {
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    const other = net.createServer((s) => s.write('{"type":"hello","version":2,"daemon":"x","pid":1}\n'));
    await new Promise<void>((r) => other.listen(sockPath, r));
    try {
      const err = await ControlClient.connect(sockPath).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'bad_hello' });
      expect((err as Error).message).toContain('protocol 2');
    } finally {
      other.close();
    }
  });

  it('timeout when the peer accepts but never greets', async () => {
    fs.mkdirSync(path.dirname(sockPath), { recursive: true });
    const mute = net.createServer(() => {});
    await new Promise<void>((r) => mute.listen(sockPath, r));
    try {
      await expect(ControlClient.connect(sockPath, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout' });
    } finally {
      mute.close();
    }
  });
});
