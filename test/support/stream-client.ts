// The plumbing every spec-written protocol test client shares (cannelloni, tcpcan,
// socketcand, and GVRET as WireTAP and SavvyCAN speak it): one TCP connection on loopback,
// each read handed to the protocol's own parser, waits for what that parser found, and when
// the daemon closed. The parsing stays in each client, written from its protocol's wire
// format and never from src/protocols, so the daemon is checked against an independent
// reading. Also the one view of such a client that the shared conformance suite drives.
import net from 'node:net';
import { ConditionWaiter } from './condition-waiter.js';
import type { ConformanceClient, SpecFrame } from './protocol-conformance.js';

/** Opens a TCP connection (Nagle on unless `noDelay`); resolves once connected. */
export async function openSocket(port: number, options: { host?: string; noDelay?: boolean } = {}): Promise<net.Socket> {
  const socket = net.connect({ port, host: options.host ?? '127.0.0.1', noDelay: options.noDelay ?? false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

export abstract class StreamClient {
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly waiter = new ConditionWaiter();

  protected constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.onData(d);
      this.notify();
    });
    this.whenClosed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.onClose();
        this.notify();
        resolve();
      }),
    );
    // A reset by the daemon shows up as the close above; tests check `closed`, not the error.
    socket.on('error', () => {});
  }

  /** One read from the daemon, in order; partial messages are the parser's to keep. */
  protected abstract onData(d: Buffer): void;

  /** The daemon (or the test) closed the connection. */
  protected onClose(): void {}

  /** Re-checks the waits (for state changed outside a read, e.g. by a timer). */
  protected notify(): void {
    this.waiter.notify();
  }

  /** Resolves when `cond` holds after a read or close; rejects after `timeoutMs` naming `what`. */
  until(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    return this.waiter.until(cond, timeoutMs, what);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  /** Stops reading (a stalled client): the kernel buffers fill and the daemon must cope. */
  stall(): void {
    this.socket.pause();
  }

  /** Half-closes: the client says it is done. */
  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A client whose parser collects frames, and that sends protocol bytes as given (cannelloni, tcpcan). */
export abstract class FrameClient<F> extends StreamClient {
  readonly frames: F[] = [];

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  async waitForFrames(n: number, timeoutMs = 5000): Promise<F[]> {
    await this.until(
      () => this.frames.length >= n,
      timeoutMs,
      () => `${n} frames (have ${this.frames.length})`,
    );
    return this.frames;
  }
}

/** The conformance suite's view of a client: its frames as spec frames, and how it sends them. */
export function conformanceView(c: StreamClient, frames: () => ConformanceClient['frames'], send: (frames: SpecFrame[]) => void): ConformanceClient {
  return {
    get frames() {
      return frames();
    },
    get closed() {
      return c.closed;
    },
    socket: c.socket,
    send: (...specFrames) => send(specFrames),
    waitForFrames: (n, timeoutMs = 5000) =>
      c.until(
        () => frames().length >= n,
        timeoutMs,
        () => `${n} frames (have ${frames().length})`,
      ),
    waitClosed: (timeoutMs) => c.waitClosed(timeoutMs),
    destroy: () => c.destroy(),
  };
}
