// An outbound session's connection: the bridge dials a remote server (a protocol's client role,
// e.g. toward `cannelloni -C s` or `tcpcan --serve`), and dials again whenever it is down, with
// a backoff from 1 s doubling to 60 s (back to 1 s once a session got through its negotiation).
// It logs one line per state change (up, down), never one per failed attempt. While down there
// is no session, so nothing queues for it: frames of that time are never replayed late.
import net from 'node:net';
import type { ListenAddress } from '../config/options.js';
import type { Logger } from '../system/logger.js';

export const DIAL_BACKOFF_MIN_MS = 1000;
export const DIAL_BACKOFF_MAX_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** What the dialer gets back for a connected socket: the session's outcome. */
export interface DialedSession {
  /** Resolves when the session has closed; true if it had become a client (negotiation done). */
  readonly ended: Promise<boolean>;
}

export interface DialerOptions {
  protocol: string;
  busName: string;
  target: ListenAddress;
  keepAliveMs: number;
  log: Logger;
  /** Makes a session of the connected socket. */
  open(socket: net.Socket): DialedSession;
  /** Tests shorten the backoff. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export type DialState = 'connecting' | 'up' | 'down' | 'stopped';

export class Dialer {
  state: DialState = 'connecting';
  /** Connections made, and attempts that failed. */
  connects = 0;
  failures = 0;
  /** When the current state began (ms since epoch). */
  since = Date.now();
  lastError: string | null = null;
  private delay: number;
  private timer: NodeJS.Timeout | null = null;
  private socket: net.Socket | null = null;
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(private readonly options: DialerOptions) {
    this.minMs = options.backoffMinMs ?? DIAL_BACKOFF_MIN_MS;
    this.maxMs = options.backoffMaxMs ?? DIAL_BACKOFF_MAX_MS;
    this.delay = this.minMs;
  }

  get target(): string {
    const { host, port } = this.options.target;
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }

  start(): void {
    this.attempt();
  }

  stop(): void {
    this.setState('stopped');
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.destroy();
  }

  private attempt(): void {
    if (this.state === 'stopped') return;
    const { host, port } = this.options.target;
    const socket = net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: this.options.keepAliveMs, allowHalfOpen: false });
    this.socket = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    const failed = (why: string): void => {
      socket.destroy();
      this.failures++;
      this.retry(why);
    };
    socket.once('timeout', () => failed('connect timed out'));
    socket.once('error', (err: NodeJS.ErrnoException) => failed(err.code ?? err.message));
    socket.once('connect', () => {
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      socket.setTimeout(0);
      if (this.state === 'stopped') return void socket.destroy();
      this.connects++;
      this.setState('up');
      const session = this.options.open(socket);
      void session.ended.then((wasClient) => {
        if (wasClient) this.delay = this.minMs;
        this.retry('closed');
      });
    });
  }

  private retry(why: string): void {
    if (this.state === 'stopped') return;
    this.lastError = why;
    const wait = this.delay;
    this.delay = Math.min(this.maxMs, this.delay * 2);
    this.setState('down', { error: why, retry_in_ms: wait });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.attempt();
    }, wait);
  }

  private setState(next: DialState, fields: Record<string, unknown> = {}): void {
    const was = this.state;
    if (was === next) return;
    this.state = next;
    this.since = Date.now();
    const base = { protocol: this.options.protocol, bus: this.options.busName, target: this.target };
    if (next === 'up') this.options.log.info('outbound_connected', base);
    // The first attempt failing counts as a change too (connecting → down).
    else if (next === 'down') this.options.log.warn('outbound_down', { ...base, ...fields });
    else if (next === 'stopped' && was === 'up') this.options.log.info('outbound_stopped', base);
  }
}
