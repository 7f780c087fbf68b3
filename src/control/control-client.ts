// Client side of the control socket, used by `status`, `top` (tui/) and tests.
// tui/ may import only this module and protocol.ts from the daemon, so the default socket
// path resolution lives here too (the server imports it from here).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  CONTROL_PROTOCOL_VERSION,
  type DaemonEvent,
  type HelloMessage,
  type KickResult,
  type Request,
  type ServerMessage,
  type Snapshot,
  type SubscribeResult,
} from './protocol.js';

// ---------------------------------------------------------------- socket path

/**
 * Where the daemon's control socket lives when `--control-socket` is not given.
 * Under systemd `RuntimeDirectory=ampio-bridge` sets $RUNTIME_DIRECTORY (/run/ampio-bridge);
 * a desktop session has $XDG_RUNTIME_DIR (/run/user/<uid>); otherwise a per-user directory
 * under the OS temp dir, so two users never fight over one socket.
 */
export function defaultControlSocketPath(env: Record<string, string | undefined>, uid: number): string {
  // systemd joins several RuntimeDirectory= entries with ':'; ours is the first.
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0];
  if (runtime) return path.join(runtime, 'control.sock');
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg) return path.join(xdg, 'ampio-bridge', 'control.sock');
  return path.join(os.tmpdir(), `ampio-bridge-${uid}`, 'control.sock');
}

/** `--control-socket` when given, else the default above (what `serve`, `status` and `top` all use). */
export function resolveControlSocketPath(
  configured: string | undefined | null,
  env: Record<string, string | undefined> = process.env,
  uid: number = typeof process.getuid === 'function' ? process.getuid() : 0,
): string {
  return configured && configured.trim() !== '' ? configured : defaultControlSocketPath(env, uid);
}

// ---------------------------------------------------------------- errors

export type ControlUnavailableCode = 'not_running' | 'permission' | 'bad_hello' | 'timeout' | 'no_descriptors';

/** The daemon cannot be reached over its control socket; `message` says what to do. */
export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError';
  readonly code: ControlUnavailableCode;
  readonly path: string;
  readonly hint: string;

  constructor(code: ControlUnavailableCode, socketPath: string, detail: string, hint: string, cause?: unknown) {
    super(`${detail}. ${hint}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = socketPath;
    this.hint = hint;
  }
}

export type ControlRequestErrorCode =
  | 'bad_request'
  | 'unknown_type'
  | 'not_found'
  | 'too_long'
  | 'internal'
  | 'closed'
  | 'timeout';

/** A request got an error reply, or the connection ended/hung before the reply. */
export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  readonly code: ControlRequestErrorCode;
  readonly hint: string;

  constructor(code: ControlRequestErrorCode, message: string, hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.hint = hint;
  }
}

function unavailable(code: ControlUnavailableCode, socketPath: string, cause?: unknown, extra?: string): ControlUnavailableError {
  switch (code) {
    case 'not_running':
      return new ControlUnavailableError(
        code,
        socketPath,
        `ampio-bridge is not running (no control socket answers at ${socketPath})`,
        'Start it with "sudo systemctl start ampio-bridge" (or "ampio-bridge serve"), or pass --control-socket PATH if it uses another socket',
        cause,
      );
    case 'permission':
      return new ControlUnavailableError(
        code,
        socketPath,
        `permission denied on the control socket ${socketPath}`,
        'Add your user to the ampio-bridge group ("sudo usermod -aG ampio-bridge $USER", then log in again) or run the command with sudo',
        cause,
      );
    case 'bad_hello':
      return new ControlUnavailableError(
        code,
        socketPath,
        `${socketPath} did not greet like an ampio-bridge control socket (protocol ${CONTROL_PROTOCOL_VERSION})${extra ? `: ${extra}` : ''}`,
        'Check --control-socket, and that the daemon and this command are the same ampio-bridge version',
        cause,
      );
    case 'no_descriptors':
      // libuv answers an accept() that fails with EMFILE/ENFILE by accepting and closing at
      // once: the connection ends before a single byte, which a live daemon never does.
      return new ControlUnavailableError(
        code,
        socketPath,
        `the daemon is out of file descriptors: it accepted the connection on ${socketPath} and closed it at once without a word`,
        'See "journalctl -u ampio-bridge" (accept_exhausted lines say how many connections it holds and refuses); raise LimitNOFILE= in the service, or find what holds the connections with "ss -tnp"',
        cause,
      );
    case 'timeout':
      return new ControlUnavailableError(
        code,
        socketPath,
        `no answer from the control socket ${socketPath}${extra ? ` within ${extra}` : ''}`,
        'The daemon may be stuck: check "journalctl -u ampio-bridge" and restart it with "sudo systemctl restart ampio-bridge"',
        cause,
      );
  }
}

function codeOfConnectError(err: NodeJS.ErrnoException): ControlUnavailableCode {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    // ENOENT: no socket file; ECONNREFUSED: a stale file from a crashed daemon;
    // ENOTSOCK: something else sits at the path. All mean "no daemon here".
    default:
      return 'not_running';
  }
}

// ---------------------------------------------------------------- client

/** Replies from the daemon can be much bigger than requests (snapshots with many clients). */
const CLIENT_MAX_LINE = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 3000;

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface ControlClientOptions {
  /** For connect + hello, and for each request. Default 3000 ms. */
  timeoutMs?: number;
}

/**
 * One connection to the daemon's control socket.
 * Events: 'snapshot' (Snapshot) and 'event' (DaemonEvent) after subscribe(); 'close' (Error | undefined) once.
 * No 'error' event is ever emitted (an unhandled 'error' would crash the caller); failures
 * reject the pending promises and end in 'close'.
 */
export class ControlClient extends EventEmitter {
  readonly hello: HelloMessage;
  readonly path: string;
  private readonly socket: net.Socket;
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private buffer = '';

  private constructor(socket: net.Socket, hello: HelloMessage, socketPath: string, timeoutMs: number, rest: string) {
    super();
    this.socket = socket;
    this.hello = hello;
    this.path = socketPath;
    this.timeoutMs = timeoutMs;
    this.buffer = rest;
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown(undefined));
    // Lines that arrived in the same chunk as the hello are handled once listeners can attach.
    if (rest !== '') queueMicrotask(() => this.onData(''));
  }

  /** Connects and waits for the daemon's hello. Rejects with ControlUnavailableError. */
  static connect(socketPath: string, opts: ControlClientOptions = {}): Promise<ControlClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      socket.setEncoding('utf8');
      let buf = '';
      let settled = false;
      const fail = (e: ControlUnavailableError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(unavailable('timeout', socketPath, undefined, `${timeoutMs} ms`)), timeoutMs);
      const onError = (err: NodeJS.ErrnoException): void => fail(unavailable(codeOfConnectError(err), socketPath, err));
      const onClose = (): void => fail(buf === '' ? unavailable('no_descriptors', socketPath) : unavailable('bad_hello', socketPath, undefined, 'the connection closed before the hello'));
      const onData = (chunk: string): void => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) {
          if (buf.length > CLIENT_MAX_LINE) fail(unavailable('bad_hello', socketPath, undefined, 'the first line is too long'));
          return;
        }
        const line = buf.slice(0, nl);
        const rest = buf.slice(nl + 1);
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch (err) {
          fail(unavailable('bad_hello', socketPath, err, 'the first line is not JSON'));
          return;
        }
        const hello = msg as Partial<HelloMessage> | null;
        if (!hello || typeof hello !== 'object' || hello.type !== 'hello') {
          fail(unavailable('bad_hello', socketPath, undefined, 'the first message is not a hello'));
          return;
        }
        if (hello.version !== CONTROL_PROTOCOL_VERSION) {
          fail(unavailable('bad_hello', socketPath, undefined, `the daemon speaks protocol ${String(hello.version)}`));
          return;
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.off('data', onData);
        resolve(new ControlClient(socket, hello as HelloMessage, socketPath, timeoutMs, rest));
      };
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('data', onData);
    });
  }

  /** One full state reading. */
  async snapshot(): Promise<Snapshot> {
    return (await this.request({ type: 'snapshot' })) as Snapshot;
  }

  /**
   * Starts the stream: 'snapshot' every intervalMs (the daemon bounds it; default 500 ms),
   * the first one right away, plus 'event' as things happen. Resolves with the interval used.
   */
  async subscribe(intervalMs?: number, events = true): Promise<void> {
    const req: Omit<Extract<Request, { type: 'subscribe' }>, 'id'> = { type: 'subscribe', events };
    if (intervalMs !== undefined) req.interval = intervalMs;
    (await this.request(req)) as SubscribeResult;
  }

  async unsubscribe(): Promise<void> {
    await this.request({ type: 'unsubscribe' });
  }

  /** Disconnects a TCP client by id. false when no such client is connected. */
  async kick(clientId: number): Promise<boolean> {
    const result = (await this.request({ type: 'kick', clientId })) as KickResult;
    return result.kicked === true;
  }

  async ping(): Promise<void> {
    await this.request({ type: 'ping' });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
    this.shutdown(undefined);
  }

  private request(body: Record<string, unknown> & { type: Request['type'] }): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(new ControlRequestError('closed', 'the control connection is closed', 'Reconnect to the daemon'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ControlRequestError(
            'timeout',
            `no reply to "${body.type}" from ${this.path} within ${this.timeoutMs} ms`,
            'The daemon may be overloaded or stuck: check "journalctl -u ampio-bridge"',
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while (!this.closed && (nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.buffer.length > CLIENT_MAX_LINE) {
      this.socket.destroy();
      this.shutdown(new ControlRequestError('too_long', 'the daemon sent a line longer than 16 MiB', 'Report this as a bug'));
    }
  }

  private onLine(line: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(line) as ServerMessage;
    } catch {
      return; // A damaged line is skipped; the next one is still framed correctly.
    }
    switch (msg?.type) {
      case 'reply': {
        const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
        if (!p) return;
        this.pending.delete(msg.id as number);
        clearTimeout(p.timer);
        p.resolve(msg.result);
        return;
      }
      case 'error': {
        const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
        if (!p) return;
        this.pending.delete(msg.id as number);
        clearTimeout(p.timer);
        p.reject(new ControlRequestError(msg.code, msg.message, 'Check the request; the daemon refused it'));
        return;
      }
      case 'snapshot':
        this.emit('snapshot', msg.snapshot);
        return;
      case 'event':
        this.emit('event', msg.event);
        return;
      default:
        return; // Unknown message types are ignored (forward compatibility).
    }
  }

  private shutdown(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ControlRequestError('closed', `the control connection to ${this.path} closed`, 'Reconnect to the daemon', err));
    }
    this.pending.clear();
    this.emit('close', err);
  }
}

export type { DaemonEvent, HelloMessage, Snapshot };
