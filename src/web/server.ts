// The daemon's one HTTP server (--http-listen, or --metrics-addr in older configs): binds,
// screens each connection against --allow before a byte is read (as the bus ports do: the
// default admits only local addresses, public ones are refused), and hands requests to the
// routes. Refusals are counted and logged at most once a minute per host.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LogFn } from '../core/log-fn.js';
import { type AddressList, addressAllowed, hostKey } from '../guard/address-list.js';

export class WebServerError extends Error {
  override readonly name = 'WebServerError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
    cause?: unknown,
  ) {
    super(`${message}. ${hint}`, cause === undefined ? undefined : { cause });
  }
}

export interface WebServerOptions {
  /** '' = every interface */
  host: string;
  port: number;
  /** The live --allow (a reload may change it). */
  allow: () => AddressList;
  /** Which option named the address, for error messages. */
  flag: string;
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  log: LogFn;
}

const LOG_EVERY_MS = 60_000;
const MAX_REMEMBERED_HOSTS = 1024;

export class WebServer {
  private server: http.Server | null = null;
  private bound: AddressInfo | null = null;
  private readonly loggedAt = new Map<string, number>();
  /** Connections refused by --allow. */
  refused = 0;

  constructor(private readonly opts: WebServerOptions) {}

  get address(): AddressInfo | null {
    return this.bound;
  }

  start(): Promise<AddressInfo> {
    const { opts } = this;
    return new Promise((resolve, reject) => {
      const srv = http.createServer(opts.handle);
      // A client that stalls its request must not hold a socket forever (event streams are
      // responses: these bound only the request).
      srv.requestTimeout = 10_000;
      srv.headersTimeout = 10_000;
      srv.keepAliveTimeout = 5_000;
      srv.maxHeadersCount = 50;
      srv.on('connection', (socket: Socket) => this.screen(socket));
      srv.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${opts.host || '*'}:${opts.port}`;
        reject(
          err.code === 'EADDRINUSE'
            ? new WebServerError(
                'http_addr_in_use',
                `HTTP address ${where} is already in use`,
                `Choose another port with --${opts.flag}, or stop the program using it`,
                err,
              )
            : new WebServerError(
                'http_listen_failed',
                `cannot listen on HTTP address ${where}: ${err.message}`,
                `Check --${opts.flag} (e.g. :8080 or 127.0.0.1:9100)`,
                err,
              ),
        );
      });
      const onListening = (): void => {
        srv.removeAllListeners('error');
        srv.on('error', (err) => opts.log('error', 'http_error', { error: String(err) }));
        this.server = srv;
        this.bound = srv.address() as AddressInfo;
        // go-ampio-server's event name (the server used to serve only metrics; tools look for it).
        opts.log('info', 'metrics_listen', { addr: formatHostPort(this.bound), pages: '/ /live /house /history /api/' });
        resolve(this.bound);
      };
      if (opts.host === '') srv.listen(opts.port, onListening);
      else srv.listen(opts.port, opts.host.replace(/^\[|\]$/g, ''), onListening);
    });
  }

  private screen(socket: Socket): void {
    if (addressAllowed(this.opts.allow(), socket.remoteAddress)) return;
    this.refused++;
    socket.destroy();
    const host = hostKey(socket.remoteAddress);
    const now = Date.now();
    const last = this.loggedAt.get(host);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    if (this.loggedAt.size >= MAX_REMEMBERED_HOSTS) this.loggedAt.clear();
    this.loggedAt.set(host, now);
    this.opts.log('warn', 'http_not_allowed', { remote: host, message: `refused an HTTP connection from ${host}: its address is outside --allow` });
  }

  async stop(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    this.server = null;
    this.bound = null;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }
}

export function formatHostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
