// The data source of `top`: an async generator over the daemon's control socket, in the
// manner of fast-cli's source/api. It connects, subscribes, yields snapshots and events as
// they arrive, and when the daemon is absent or goes away it says so and reconnects with
// backoff, forever, until the caller aborts. It never throws for a missing daemon: a monitor
// left open on a console must survive `systemctl restart ampio-bridge`.

import { ControlClient, ControlUnavailableError } from '../../src/control/control-client.js';
import { Backoff } from '../../src/core/backoff.js';
import type { DaemonEvent, HelloMessage, Snapshot } from '../../src/control/protocol.js';
import type { WaitReason } from '../view.js';

export type StreamItem =
  | { type: 'connecting'; attempt: number }
  | { type: 'connected'; hello: HelloMessage; kick(clientId: number): Promise<boolean> }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'event'; event: DaemonEvent }
  | { type: 'waiting'; attempt: number; retryInMs: number; reason: WaitReason; detail: string };

/** What the stream needs from a control connection (ControlClient; tests may pass another). */
export type ControlConnection = Pick<ControlClient, 'hello' | 'subscribe' | 'kick' | 'close' | 'on' | 'off'>;

/** Retry timing of the stream (the delays come from the one Backoff in src/core). */
export interface StreamBackoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

/**
 * Quick first retries (a `systemctl restart` takes about a second), then no faster than
 * every 3 s so a stopped daemon costs a Pi nothing.
 */
export const DEFAULT_BACKOFF: StreamBackoff = { initialMs: 250, maxMs: 3000, factor: 2 };

export interface DaemonStreamOptions {
  socketPath: string;
  /** Requested snapshot interval; the daemon bounds it. */
  intervalMs: number;
  signal: AbortSignal;
  connect?: (path: string, opts: { timeoutMs: number }) => Promise<ControlConnection>;
  backoff?: StreamBackoff;
  connectTimeoutMs?: number;
  /** Injected for tests that step through retries quickly. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Single-consumer queue that turns EventEmitter callbacks into awaited items. */
class ItemQueue<T> {
  private items: T[] = [];
  private waiter: ((v: T | undefined) => void) | null = null;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(item);
    } else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(undefined);
    }
  }

  /** Next item, or undefined once ended (after draining) or aborted. */
  next(signal: AbortSignal): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (this.ended || signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiter = null;
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
    });
  }
}

function reasonOf(err: unknown): { reason: WaitReason; detail: string } {
  if (err instanceof ControlUnavailableError) {
    const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
    const detail: Record<string, string> = {
      not_running: cause ? `not running (${cause})` : 'not running',
      permission: 'permission denied',
      bad_hello: 'not an ampio-bridge control socket',
      timeout: 'no answer',
      no_descriptors: 'out of file descriptors',
    };
    // A refused (unsafe) socket directory is no "waiting" state: show the whole reason.
    if (err.code === 'unsafe') return { reason: 'error', detail: err.message };
    return { reason: err.code, detail: detail[err.code] ?? err.code };
  }
  return { reason: 'error', detail: err instanceof Error ? err.message : String(err) };
}

type Pumped = { type: 'snapshot'; snapshot: Snapshot } | { type: 'event'; event: DaemonEvent } | { type: 'closed' };

export async function* daemonStream(opts: DaemonStreamOptions): AsyncGenerator<StreamItem, void, undefined> {
  const { signal, socketPath } = opts;
  const connect = opts.connect ?? ((p, o) => ControlClient.connect(p, o));
  const timing = opts.backoff ?? DEFAULT_BACKOFF;
  const backoff = new Backoff({ initial: timing.initialMs, max: timing.maxMs, factor: timing.factor });
  const sleep = opts.sleep ?? abortableSleep;
  const timeoutMs = opts.connectTimeoutMs ?? 3000;
  let failures = 0;

  while (!signal.aborted) {
    yield { type: 'connecting', attempt: failures + 1 };
    let client: ControlConnection;
    try {
      client = await connect(socketPath, { timeoutMs });
    } catch (err) {
      failures++;
      const retryInMs = backoff.next();
      yield { type: 'waiting', attempt: failures, retryInMs, ...reasonOf(err) };
      await sleep(retryInMs, signal);
      continue;
    }

    const queue = new ItemQueue<Pumped>();
    const onSnapshot = (snapshot: Snapshot) => queue.push({ type: 'snapshot', snapshot });
    const onEvent = (event: DaemonEvent) => queue.push({ type: 'event', event });
    const onClose = () => {
      queue.push({ type: 'closed' });
      queue.end();
    };
    client.on('snapshot', onSnapshot);
    client.on('event', onEvent);
    client.on('close', onClose);
    let lostDetail = 'the bridge closed the control connection';
    try {
      // The daemon sends the first snapshot right after the subscribe request.
      await client.subscribe(opts.intervalMs);
      failures = 0;
      backoff.reset();
      yield { type: 'connected', hello: client.hello, kick: (id) => client.kick(id) };
      for (;;) {
        const item = await queue.next(signal);
        if (!item || item.type === 'closed') break;
        yield item;
      }
    } catch (err) {
      // subscribe failed: the daemon died between hello and reply, or refused us.
      lostDetail = err instanceof Error ? err.message : String(err);
    } finally {
      // Runs on abort, on return() from the consumer, and on connection loss alike.
      client.off('snapshot', onSnapshot);
      client.off('event', onEvent);
      client.off('close', onClose);
      client.close();
    }
    if (signal.aborted) return;
    failures++;
    const retryInMs = backoff.next();
    yield { type: 'waiting', attempt: failures, retryInMs, reason: 'lost', detail: lostDetail };
    await sleep(retryInMs, signal);
  }
}
