// Daemon side of the control socket: NDJSON over a Unix socket (protocol.ts).
// It only reads state through `ControlSource`; it never blocks the daemon: a slow reader
// gets snapshots skipped while its socket is not drained and is dropped past a byte bound,
// and a flood of garbage or an over-long line closes that one connection.
import fs from 'node:fs';
import type net from 'node:net';
import { framesFilter, type LiveFrames } from './frame-stream.js';
import { LineReader } from './ndjson.js';
import {
  boundInterval,
  CONTROL_MAX_LINE,
  CONTROL_PROTOCOL_VERSION,
  type DaemonEvent,
  type ErrorMessage,
  type HelloMessage,
  type KickResult,
  type PingResult,
  type ServerMessage,
  type Snapshot,
  type SubscribeResult,
} from './protocol.js';
import { listenUnix, prepareSocketFile } from './unix-socket.js';
import type { LogFn } from '../core/log-fn.js';

export { ControlSocketError, ControlSocketInUseError } from './unix-socket.js';

/** What the daemon exposes to the control socket. */
export interface ControlSource {
  snapshot(): Snapshot;
  /** Disconnects TCP client `id`; false if there is none. */
  kick(id: number): boolean;
  /** Subscribes to daemon events; returns the unsubscribe function. */
  onEvent(listener: (e: DaemonEvent) => void): () => void;
  /** Answers request types the services own (e.g. `ampio_state`); undefined = nobody owns it. */
  answer?(request: Readonly<Record<string, unknown>>): unknown;
}

export type ControlLog = LogFn;

export interface ControlServerOptions {
  path: string;
  source: ControlSource;
  /** Sent in the hello line: the daemon version and pid. */
  helloInfo: { daemon: string; pid: number };
  log: ControlLog;
  /** Socket file mode; 0660 so members of the service group can run `top`. */
  mode?: number;
  /** A connection whose unsent output exceeds this is dropped. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Consecutive bad requests tolerated before the connection is closed. Default 16. */
  maxBadRequests?: number;
  /** The uid the socket's directory must belong to (or root). Default: this process's. */
  uid?: number;
  /** The path is the per-user default under the shared temp dir: its directory must be ours alone. */
  sharedTmp?: boolean;
  /** Live frames for `frames` requests (`capture live`, the extcap); absent = refused. */
  frames?: { tap: LiveFrames; busNames(): string[] };
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const DEFAULT_MAX_BAD = 16;

interface Conn {
  id: number;
  socket: net.Socket;
  reader: LineReader;
  badInARow: number;
  streamTimer: NodeJS.Timeout | null;
  events: boolean;
  skipped: number;
  stopFrames: (() => void) | null;
}

export interface ControlServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Open control connections (for tests and the shutdown summary). */
  readonly connections: number;
}

export function createControlServer(opts: ControlServerOptions): ControlServer {
  const socketPath = opts.path;
  const mode = opts.mode ?? 0o660;
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const maxBad = opts.maxBadRequests ?? DEFAULT_MAX_BAD;
  const conns = new Set<Conn>();
  let server: net.Server | null = null;
  let unsubscribeEvents: (() => void) | null = null;
  let nextConnId = 1;

  const hello: HelloMessage = {
    type: 'hello',
    version: CONTROL_PROTOCOL_VERSION,
    daemon: opts.helloInfo.daemon,
    pid: opts.helloInfo.pid,
  };

  function drop(c: Conn, reason: string): void {
    if (c.streamTimer) clearInterval(c.streamTimer);
    c.streamTimer = null;
    c.stopFrames?.();
    c.stopFrames = null;
    if (conns.delete(c)) opts.log('warn', 'control_client_dropped', { control_conn: c.id, reason });
    c.socket.destroy();
  }

  /** Writes one line; drops the connection instead of buffering without bound. */
  function send(c: Conn, msg: ServerMessage): void {
    if (c.socket.destroyed) return;
    c.socket.write(`${JSON.stringify(msg)}\n`);
    if (c.socket.writableLength > maxBuffered) drop(c, 'slow_reader');
  }

  function sendError(c: Conn, id: ErrorMessage['id'], code: ErrorMessage['code'], message: string): void {
    send(c, { type: 'error', id, code, message });
  }

  function streamTick(c: Conn): void {
    // Not drained yet: this reader is behind, so skip rather than queue stale snapshots.
    if (c.socket.writableNeedDrain) {
      c.skipped++;
      return;
    }
    let snapshot: Snapshot;
    try {
      snapshot = opts.source.snapshot();
    } catch (err) {
      opts.log('error', 'control_snapshot_failed', { error: String(err) });
      return;
    }
    send(c, { type: 'snapshot', snapshot });
  }

  function badRequest(c: Conn, id: ErrorMessage['id'], code: ErrorMessage['code'], message: string): void {
    sendError(c, id, code, message);
    c.badInARow++;
    if (c.badInARow > maxBad) {
      c.socket.end();
      drop(c, 'too_many_bad_requests');
    }
  }

  function handleLine(c: Conn, line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      badRequest(c, null, 'bad_request', 'not a JSON object');
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      badRequest(c, null, 'bad_request', 'not a JSON object');
      return;
    }
    const req = msg as Record<string, unknown>;
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null;
    if (id === null) {
      badRequest(c, null, 'bad_request', 'missing "id" (a number or string)');
      return;
    }
    if (typeof req.type !== 'string') {
      badRequest(c, id, 'bad_request', 'missing "type"');
      return;
    }
    const handler = handlers.get(req.type);
    if (handler) {
      handler(c, id, req);
      return;
    }
    let result: unknown;
    try {
      result = opts.source.answer?.(req);
    } catch (err) {
      sendError(c, id, 'internal', String(err));
      return;
    }
    if (result === undefined) badRequest(c, id, 'unknown_type', `unknown request type "${req.type.slice(0, 64)}"`);
    else {
      c.badInARow = 0;
      send(c, { type: 'reply', id, result });
    }
  }

  type RequestId = NonNullable<ErrorMessage['id']>;
  /**
   * One entry per request type. A Map, not an object literal: a request named "constructor"
   * or "__proto__" must be an unknown type, not a property of Object.prototype.
   */
  const handlers = new Map<string, (c: Conn, id: RequestId, req: Record<string, unknown>) => void>([
    [
      'snapshot',
      (c, id) => {
        let snapshot: Snapshot;
        try {
          snapshot = opts.source.snapshot();
        } catch (err) {
          opts.log('error', 'control_snapshot_failed', { error: String(err) });
          sendError(c, id, 'internal', 'the daemon could not take a snapshot');
          return;
        }
        c.badInARow = 0;
        send(c, { type: 'reply', id, result: snapshot });
      },
    ],
    [
      'subscribe',
      (c, id, req) => {
        if (req.interval !== undefined && (typeof req.interval !== 'number' || !Number.isFinite(req.interval))) {
          badRequest(c, id, 'bad_request', '"interval" must be a number of milliseconds');
          return;
        }
        c.badInARow = 0;
        const interval = boundInterval(req.interval);
        c.events = req.events !== false;
        if (c.streamTimer) clearInterval(c.streamTimer);
        c.streamTimer = setInterval(() => streamTick(c), interval);
        const result: SubscribeResult = { interval, events: c.events };
        send(c, { type: 'reply', id, result });
        // First reading right away, so a monitor does not show an empty screen for a tick.
        streamTick(c);
      },
    ],
    ['frames', (c, id, req) => startFrames(c, id, req)],
    [
      'unsubscribe',
      (c, id) => {
        c.badInARow = 0;
        if (c.streamTimer) clearInterval(c.streamTimer);
        c.streamTimer = null;
        c.stopFrames?.();
        c.stopFrames = null;
        c.events = false;
        send(c, { type: 'reply', id, result: {} });
      },
    ],
    [
      'kick',
      (c, id, req) => {
        if (typeof req.clientId !== 'number' || !Number.isInteger(req.clientId)) {
          badRequest(c, id, 'bad_request', '"clientId" must be an integer');
          return;
        }
        c.badInARow = 0;
        let kicked: boolean;
        try {
          kicked = opts.source.kick(req.clientId);
        } catch (err) {
          opts.log('error', 'control_kick_failed', { error: String(err), client_id: req.clientId });
          sendError(c, id, 'internal', 'the daemon could not kick the client');
          return;
        }
        const result: KickResult = { kicked };
        send(c, { type: 'reply', id, result });
      },
    ],
    [
      'ping',
      (c, id) => {
        c.badInARow = 0;
        const result: PingResult = { pong: true, time: Date.now() };
        send(c, { type: 'reply', id, result });
      },
    ],
  ]);

  /** `frames`: this connection gets live frames; a reader that falls behind gets drops counted, never the daemon stuck. */
  function startFrames(c: Conn, id: RequestId, req: Record<string, unknown>): void {
    if (!opts.frames) return badRequest(c, id, 'unknown_type', 'this daemon does not stream frames');
    const names = opts.frames.busNames();
    const filter = framesFilter(req, names);
    if (typeof filter === 'string') return badRequest(c, id, 'bad_request', filter);
    c.badInARow = 0;
    c.stopFrames?.();
    send(c, { type: 'reply', id, result: { buses: names } });
    // A quarter of the byte bound: frames are dropped (and counted) long before the connection would be.
    c.stopFrames = opts.frames.tap.subscribe(filter, {
      ready: () => !c.socket.destroyed && c.socket.writableLength < maxBuffered / 4,
      send: (msg) => send(c, msg),
    });
  }

  function onData(c: Conn, chunk: string): void {
    const { lines, tooLong: overLong } = c.reader.push(chunk);
    for (const line of lines) {
      if (!conns.has(c)) return;
      handleLine(c, line);
    }
    if (overLong && conns.has(c)) tooLong(c);
  }

  function tooLong(c: Conn): void {
    sendError(c, null, 'too_long', `request line longer than ${CONTROL_MAX_LINE} bytes`);
    c.socket.end();
    drop(c, 'line_too_long');
  }

  function onConnection(socket: net.Socket): void {
    const c: Conn = {
      id: nextConnId++,
      socket,
      reader: new LineReader(CONTROL_MAX_LINE),
      badInARow: 0,
      streamTimer: null,
      events: false,
      skipped: 0,
      stopFrames: null,
    };
    conns.add(c);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => onData(c, chunk));
    socket.on('error', () => {
      /* peer went away; 'close' cleans up */
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      if (c.streamTimer) clearInterval(c.streamTimer);
      c.streamTimer = null;
      c.stopFrames?.();
      c.stopFrames = null;
      conns.delete(c);
    });
    send(c, hello);
  }

  function onDaemonEvent(event: DaemonEvent): void {
    for (const c of conns) {
      if (c.events) send(c, { type: 'event', event });
    }
  }

  return {
    get connections() {
      return conns.size;
    },
    async start() {
      if (server) return;
      await prepareSocketFile(socketPath, {
        uid: opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0),
        sharedTmp: opts.sharedTmp,
        log: opts.log,
      });
      const srv = await listenUnix(socketPath, mode, onConnection, (err) => opts.log('error', 'control_socket_error', { error: String(err) }));
      server = srv;
      unsubscribeEvents = opts.source.onEvent(onDaemonEvent);
      opts.log('info', 'control_listen', { path: socketPath });
    },
    async stop() {
      const srv = server;
      if (!srv) return;
      server = null;
      unsubscribeEvents?.();
      unsubscribeEvents = null;
      for (const c of [...conns]) {
        if (c.streamTimer) clearInterval(c.streamTimer);
        c.stopFrames?.();
        conns.delete(c);
        c.socket.destroy();
      }
      // net.Server.close unlinks the socket file itself.
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      await fs.promises.rm(socketPath, { force: true });
    },
  };
}
