// A TCP listener (one bus, or every bus for a shared-listener protocol). Accepting is never blocked by a handshake: each connection
// handshakes on its own (the Go predecessor's inline handshake let one silent client stall
// every accept for 3 s).
import net from 'node:net';
import type { ListenAddress } from '../config/options.js';

export class ListenError extends Error {
  readonly code: string;
  readonly hint: string;
  constructor(code: string, message: string, hint: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ListenError';
    this.code = code;
    this.hint = hint;
  }
}

export interface TcpListenerOptions {
  address: ListenAddress;
  /**
   * Decides per connection: true admits; false refuses with nothing sent; bytes refuse with
   * these last words (the protocol's error form), written before the close.
   */
  admit(socket: net.Socket): boolean | Uint8Array;
  onConnection(socket: net.Socket): void;
  onRefused(socket: net.Socket): void;
  /**
   * The peer reset the connection before it was accepted (the kernel had completed the
   * handshake; by the time the process took it, it was gone): not a refusal, not an error.
   */
  onResetBeforeAccept?(): void;
  /** TCP keepalive idle time (ms) before probes; reaps vanished peers. */
  keepAliveMs: number;
  /** accept() failed (EMFILE/ENFILE when the process is out of descriptors); the listener stays. */
  onAcceptError?(err: NodeJS.ErrnoException): void;
}

export class TcpListener {
  private server: net.Server | null = null;
  private bound: net.AddressInfo | null = null;

  constructor(private readonly options: TcpListenerOptions) {}

  /** Binds; resolves with the real address (port 0 → the chosen port). */
  async start(): Promise<net.AddressInfo> {
    // allowHalfOpen: the session sees the peer's FIN itself and closes with its own reason.
    const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: this.options.keepAliveMs, allowHalfOpen: true });
    server.on('connection', (socket) => {
      // No peer address: getpeername() failed because the connection was reset while it
      // waited in the accept queue (a client's RST, a port scan). Nobody to refuse or serve.
      if (socket.remoteAddress === undefined) {
        socket.on('error', () => {});
        socket.destroy();
        this.options.onResetBeforeAccept?.();
        return;
      }
      const admitted = this.options.admit(socket);
      if (admitted !== true) {
        this.options.onRefused(socket);
        if (admitted === false) return void socket.destroy();
        refuseWith(socket, admitted);
        return;
      }
      socket.setNoDelay(true);
      socket.setKeepAlive(true, this.options.keepAliveMs);
      this.options.onConnection(socket);
    });
    const { host, port } = this.options.address;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        reject(listenError(err, host, port));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host: host === '' ? undefined : host, port, exclusive: true });
    });
    // After binding, the listener's errors are accept() failures (EMFILE/ENFILE: libuv has
    // already closed the connection it could not accept); keep the server alive.
    server.on('error', (err: NodeJS.ErrnoException) => this.options.onAcceptError?.(err));
    this.server = server;
    this.bound = server.address() as net.AddressInfo;
    return this.bound;
  }

  get address(): net.AddressInfo | null {
    return this.bound;
  }

  /** Stops accepting; existing connections are left to their owners. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // close() stops accepting at once; its callback would wait for every connection, which
    // the daemon closes itself (after flushing them), so do not wait for it here.
    server.close();
  }
}

/** Writes a refused peer its last words, then closes; a peer that does not read is cut off after a second. */
function refuseWith(socket: net.Socket, lastWords: Uint8Array): void {
  socket.on('error', () => {});
  socket.resume(); // what it still sends is discarded, so its FIN is seen
  socket.end(lastWords);
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // The peer's FIN (allowHalfOpen keeps our side open otherwise) or its reset ends it.
  socket.once('end', () => socket.destroy());
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const where = `${host === '' ? '*' : host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(
        'listen_in_use',
        `cannot listen on ${where}: the port is already in use`,
        `stop the other program (see \`ss -ltnp 'sport = :${port}'\`; an old can-server.service?) or choose another port with --listen`,
        err,
      );
    case 'EACCES':
      return new ListenError(
        'listen_denied',
        `cannot listen on ${where}: permission denied`,
        'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a port like :20000',
        err,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(
        'listen_address',
        `cannot listen on ${where}: no such local address`,
        'use an address of this machine, :20000 for all interfaces or 127.0.0.1:20000 for local clients only',
        err,
      );
    default:
      return new ListenError('listen_failed', `cannot listen on ${where}: ${err.message}`, 'check --listen', err);
  }
}

export function formatAddress(a: net.AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function remoteOf(socket: net.Socket): string {
  const addr = socket.remoteAddress ?? '?';
  const port = socket.remotePort ?? 0;
  const plain = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}
