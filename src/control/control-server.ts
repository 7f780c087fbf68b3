// Daemon side of the control socket: NDJSON over a Unix socket (protocol.ts).
// It only reads state through `ControlSource`; it never blocks the daemon: a slow reader
// gets snapshots skipped while its socket is not drained and is dropped past a byte bound,
// and a flood of garbage or an over-long line closes that one connection.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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

/** What the daemon exposes to the control socket. */
export interface ControlSource {
  snapshot(): Snapshot;
  /** Disconnects TCP client `id`; false if there is none. */
  kick(id: number): boolean;
  /** Subscribes to daemon events; returns the unsubscribe function. */
  onEvent(listener: (e: DaemonEvent) => void): () => void;
}

export type ControlLog = (level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>) => void;

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
}

export class ControlSocketInUseError extends Error {
  override readonly name = 'ControlSocketInUseError';
  readonly code = 'control_socket_in_use';
  readonly hint: string;
  readonly path: string;
  constructor(socketPath: string) {
    const hint =
      'Another ampio-bridge daemon is already running with this control socket. Stop it first ("sudo systemctl stop ampio-bridge"), or give this one its own socket with --control-socket PATH';
    super(`control socket ${socketPath} is in use by a running daemon. ${hint}`);
    this.path = socketPath;
    this.hint = hint;
  }
}

export class ControlSocketError extends Error {
  override readonly name = 'ControlSocketError';
  readonly code: 'control_socket_not_socket' | 'control_socket_dir' | 'control_socket_listen';
  readonly hint: string;
  readonly path: string;
  constructor(code: ControlSocketError['code'], socketPath: string, detail: string, hint: string, cause?: unknown) {
    super(`${detail}. ${hint}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = socketPath;
    this.hint = hint;
  }
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const DEFAULT_MAX_BAD = 16;

interface Conn {
  id: number;
  socket: net.Socket;
  buffer: string;
  badInARow: number;
  streamTimer: NodeJS.Timeout | null;
  events: boolean;
  skipped: number;
}

export interface ControlServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Open control connections (for tests and the shutdown summary). */
  readonly connections: number;
}

/** Tries to connect: true if a daemon answers, false if the file is a dead socket. */
function probeSocket(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: socketPath });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
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
    switch (req.type) {
      case 'snapshot': {
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
        return;
      }
      case 'subscribe': {
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
        return;
      }
      case 'unsubscribe': {
        c.badInARow = 0;
        if (c.streamTimer) clearInterval(c.streamTimer);
        c.streamTimer = null;
        c.events = false;
        send(c, { type: 'reply', id, result: {} });
        return;
      }
      case 'kick': {
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
        return;
      }
      case 'ping': {
        c.badInARow = 0;
        const result: PingResult = { pong: true, time: Date.now() };
        send(c, { type: 'reply', id, result });
        return;
      }
      default:
        badRequest(c, id, 'unknown_type', `unknown request type "${req.type.slice(0, 64)}"`);
    }
  }

  function onData(c: Conn, chunk: string): void {
    c.buffer += chunk;
    let nl: number;
    while (conns.has(c) && (nl = c.buffer.indexOf('\n')) >= 0) {
      const line = c.buffer.slice(0, nl);
      c.buffer = c.buffer.slice(nl + 1);
      if (line.length > CONTROL_MAX_LINE) {
        tooLong(c);
        return;
      }
      if (line.trim() !== '') handleLine(c, line);
    }
    if (conns.has(c) && c.buffer.length > CONTROL_MAX_LINE) tooLong(c);
  }

  function tooLong(c: Conn): void {
    sendError(c, null, 'too_long', `request line longer than ${CONTROL_MAX_LINE} bytes`);
    c.socket.end();
    drop(c, 'line_too_long');
  }

  function onConnection(socket: net.Socket): void {
    const c: Conn = { id: nextConnId++, socket, buffer: '', badInARow: 0, streamTimer: null, events: false, skipped: 0 };
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
      conns.delete(c);
    });
    send(c, hello);
  }

  function onDaemonEvent(event: DaemonEvent): void {
    for (const c of conns) {
      if (c.events) send(c, { type: 'event', event });
    }
  }

  async function prepare(): Promise<void> {
    const dir = path.dirname(socketPath);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o770 });
    } catch (err) {
      throw new ControlSocketError(
        'control_socket_dir',
        socketPath,
        `cannot create the directory ${dir} for the control socket`,
        'Create it with write access for the service user, or choose another path with --control-socket PATH',
        err,
      );
    }
    let st: fs.Stats;
    try {
      st = fs.lstatSync(socketPath);
    } catch {
      return; // nothing there
    }
    if (!st.isSocket()) {
      throw new ControlSocketError(
        'control_socket_not_socket',
        socketPath,
        `${socketPath} exists and is not a socket`,
        'Remove that file or choose another path with --control-socket PATH',
      );
    }
    if (await probeSocket(socketPath)) throw new ControlSocketInUseError(socketPath);
    // A socket file nobody listens on: left by a daemon that crashed. Replace it.
    fs.rmSync(socketPath, { force: true });
    opts.log('info', 'control_socket_stale_removed', { path: socketPath });
  }

  function listen(): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ allowHalfOpen: false }, onConnection);
      srv.once('error', reject);
      srv.listen(socketPath, () => {
        srv.off('error', reject);
        srv.on('error', (err) => opts.log('error', 'control_socket_error', { error: String(err) }));
        resolve(srv);
      });
    });
  }

  return {
    get connections() {
      return conns.size;
    },
    async start() {
      if (server) return;
      await prepare();
      let srv: net.Server;
      try {
        srv = await listen();
      } catch (err) {
        // Another daemon may have won a race between our probe and bind.
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ControlSocketInUseError(socketPath);
        throw new ControlSocketError(
          'control_socket_listen',
          socketPath,
          `cannot listen on the control socket ${socketPath}: ${(err as Error).message}`,
          'Check that the directory is writable by the service user, or choose another path with --control-socket PATH',
          err,
        );
      }
      fs.chmodSync(socketPath, mode);
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
        conns.delete(c);
        c.socket.destroy();
      }
      // net.Server.close unlinks the socket file itself.
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      fs.rmSync(socketPath, { force: true });
    },
  };
}
