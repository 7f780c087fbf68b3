// Client side of the control socket, used by `status`, `top` (tui/), `doctor` and tests.
// Every message is stripped of control characters before it is handed on (sanitize.ts).
import type { StateView } from '../ampio/types.js';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { codeOfConnectError, ControlRequestError, type ControlUnavailableError, unavailable } from './client-errors.js';
import { LineReader } from './ndjson.js';
import {
  CONTROL_PROTOCOL_VERSION,
  type DaemonEvent,
  type FramesRequest,
  type FramesResult,
  type HelloMessage,
  type KickResult,
  type Request,
  type ServerMessage,
  type Snapshot,
  type SubscribeResult,
} from './protocol.js';
import { sanitizeJson } from './sanitize.js';
import { dirFacts, type ResolvedSocketPath, runtimeDirProblem, socketPathProblem } from './socket-path.js';

// ---------------------------------------------------------------- socket path

export { resolveControlSocket, type ResolvedSocketPath } from './socket-path.js';
export { ControlRequestError, type ControlRequestErrorCode, ControlUnavailableError, type ControlUnavailableCode } from './client-errors.js';

/** Refuses a shared-tmp default directory that is not ours alone (for callers that connect later, like the TUI). */
export async function checkSocketDir(resolved: ResolvedSocketPath): Promise<ControlUnavailableError | null> {
  if (!resolved.sharedTmp) return null;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = path.dirname(path.resolve(resolved.path));
  const facts = await dirFacts(dir).catch(() => null);
  const problem = facts ? runtimeDirProblem(dir, facts, uid, { ownedOnly: true }) : null;
  return problem ? unavailable('unsafe', resolved.path, undefined, problem) : null;
}

/** The options that go with a resolved path: the shared-tmp default must be in a directory of our own. */
export function connectOptionsFor(resolved: ResolvedSocketPath, opts: ControlClientOptions = {}): ControlClientOptions {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return resolved.sharedTmp ? { ...opts, requireOwnDir: uid } : opts;
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
  /**
   * Check first that the socket's directory belongs to this uid alone (the per-user
   * default under the shared temp dir, where anyone could have created it first).
   */
  requireOwnDir?: number;
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
  private readonly reader: LineReader;

  private constructor(socket: net.Socket, hello: HelloMessage, socketPath: string, timeoutMs: number, reader: LineReader, early: string[]) {
    super();
    this.socket = socket;
    this.hello = hello;
    this.path = socketPath;
    this.timeoutMs = timeoutMs;
    this.reader = reader;
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown(undefined));
    // Lines that arrived in the same chunk as the hello are handled once listeners can attach.
    if (early.length > 0) queueMicrotask(() => this.onLines(early));
  }

  /** Connects and waits for the daemon's hello. Rejects with ControlUnavailableError. */
  static async connect(socketPath: string, opts: ControlClientOptions = {}): Promise<ControlClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const pathProblem = socketPathProblem(socketPath);
    if (pathProblem) throw unavailable('not_running', socketPath, undefined, pathProblem);
    if (opts.requireOwnDir !== undefined) {
      const dir = path.dirname(path.resolve(socketPath));
      const facts = await dirFacts(dir).catch(() => null);
      const problem = facts ? runtimeDirProblem(dir, facts, opts.requireOwnDir, { ownedOnly: true }) : null;
      if (problem) throw unavailable('unsafe', socketPath, undefined, problem);
    }
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      socket.setEncoding('utf8');
      const reader = new LineReader(CLIENT_MAX_LINE);
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
      let gotBytes = false;
      const onClose = (): void =>
        fail(!gotBytes ? unavailable('no_descriptors', socketPath) : unavailable('bad_hello', socketPath, undefined, 'the connection closed before the hello'));
      const onData = (chunk: string): void => {
        gotBytes = true;
        const { lines, tooLong } = reader.push(chunk);
        if (lines.length === 0) {
          if (tooLong) fail(unavailable('bad_hello', socketPath, undefined, 'the first line is too long'));
          return;
        }
        const [line, ...early] = lines;
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch (err) {
          fail(unavailable('bad_hello', socketPath, err, 'the first line is not JSON'));
          return;
        }
        const hello = sanitizeJson(msg) as Partial<HelloMessage> | null;
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
        resolve(new ControlClient(socket, hello as HelloMessage, socketPath, timeoutMs, reader, early));
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

  /** Starts the live frame stream ('frames' events: FramesMessage); resolves with the bus names by index. */
  async frames(filter: FramesRequest = {}): Promise<FramesResult> {
    return (await this.request({ type: 'frames', ...filter })) as FramesResult;
  }

  /** Stops reading the socket (a slow consumer): the daemon then counts the frames it drops. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** The Ampio state store's values (serve with --ampio); `filter` = a module address or a module/entity name. */
  async ampioState(filter?: string): Promise<StateView[]> {
    return (await this.request({ type: 'ampio_state', ...(filter ? { filter } : {}) })) as StateView[];
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
    const { lines, tooLong } = this.reader.push(chunk);
    this.onLines(lines);
    if (tooLong && !this.closed) {
      this.socket.destroy();
      this.shutdown(new ControlRequestError('too_long', 'the daemon sent a line longer than 16 MiB', 'Report this as a bug'));
    }
  }

  private onLines(lines: string[]): void {
    for (const line of lines) {
      if (this.closed) return;
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let msg: ServerMessage;
    try {
      msg = sanitizeJson(JSON.parse(line)) as ServerMessage;
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
      case 'frames':
        this.emit('frames', msg);
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
