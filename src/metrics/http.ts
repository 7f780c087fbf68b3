// /metrics for Prometheus, /ready for orchestration and `setup`'s verify step, /healthz for
// liveness: serveProbe() answers them inside the daemon's one HTTP server (src/web/, at
// --http-listen or its older name --metrics-addr); createMetricsHttpServer() is the same
// three paths alone, for embedding them without the web page.
//   /ready   200 "ready" only when every listener is bound and every backend open (and no
//            bus is bus-off), else 503 with the reason, so a probe says why.
//   /healthz 200 "ok": answering at all proves the event loop is alive.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './registry.js';
import type { LogFn } from '../core/log-fn.js';

export interface Readiness {
  ready: boolean;
  /** Why not ready ("can0: backend absent"); "ready" when ready. */
  reason: string;
}

export interface MetricsHttpOptions {
  /** '' = all interfaces (only when the operator asked for it: `--metrics-addr :9100`). */
  host: string;
  port: number;
  registry: MetricsRegistry;
  readiness(): Readiness;
  log: LogFn;
}

export class MetricsHttpError extends Error {
  override readonly name = 'MetricsHttpError';
  readonly code: string;
  readonly hint: string;
  constructor(code: string, message: string, hint: string, cause?: unknown) {
    super(`${message}. ${hint}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.hint = hint;
  }
}

export interface MetricsHttpServer {
  /** Binds; resolves with the bound address (port 0 → the real port). */
  start(): Promise<AddressInfo>;
  stop(): Promise<void>;
  readonly address: AddressInfo | null;
}

export function createMetricsHttpServer(opts: MetricsHttpOptions): MetricsHttpServer {
  let server: http.Server | null = null;
  let bound: AddressInfo | null = null;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      plainText(req, res, 405, 'method not allowed\n');
      return;
    }
    if (serveProbe(req, res, opts)) return;
    if ((req.url ?? '/').split('?')[0] === '/') plainText(req, res, 200, 'ampio-bridge: /metrics /ready /healthz\n');
    else plainText(req, res, 404, 'not found\n');
  };

  return {
    get address() {
      return bound;
    },
    start() {
      return new Promise((resolve, reject) => {
        const srv = http.createServer(handle);
        // A scraper that stalls must not hold a socket forever.
        srv.requestTimeout = 10_000;
        srv.headersTimeout = 10_000;
        srv.keepAliveTimeout = 5_000;
        srv.once('error', (err: NodeJS.ErrnoException) => {
          const where = `${opts.host || '*'}:${opts.port}`;
          reject(
            err.code === 'EADDRINUSE'
              ? new MetricsHttpError(
                  'metrics_addr_in_use',
                  `metrics address ${where} is already in use`,
                  'Choose another port with --metrics-addr, or stop the program using it',
                  err,
                )
              : new MetricsHttpError(
                  'metrics_listen_failed',
                  `cannot listen on metrics address ${where}: ${err.message}`,
                  'Check --metrics-addr (e.g. 127.0.0.1:9100)',
                  err,
                ),
          );
        });
        const onListening = (): void => {
          srv.removeAllListeners('error');
          srv.on('error', (err) => opts.log('error', 'metrics_http_error', { error: String(err) }));
          server = srv;
          bound = srv.address() as AddressInfo;
          opts.log('info', 'metrics_listen', { addr: formatHostPort(bound) });
          resolve(bound);
        };
        if (opts.host === '') srv.listen(opts.port, onListening);
        else srv.listen(opts.port, opts.host, onListening);
      });
    },
    async stop() {
      const srv = server;
      if (!srv) return;
      server = null;
      bound = null;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      });
    },
  };
}

function formatHostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function plainText(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Answers /metrics, /ready and /healthz (GET or HEAD); false for any other path. The web
 * server (src/web/) serves these same paths through this function, so the two never differ.
 */
export function serveProbe(req: http.IncomingMessage, res: http.ServerResponse, opts: Pick<MetricsHttpOptions, 'registry' | 'readiness' | 'log'>): boolean {
  switch ((req.url ?? '/').split('?')[0]) {
    case '/metrics':
      opts.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          opts.log('error', 'metrics_collect_failed', { error: String(err) });
          plainText(req, res, 500, 'metrics collection failed\n');
        },
      );
      return true;
    case '/ready': {
      let r: Readiness;
      try {
        r = opts.readiness();
      } catch (err) {
        r = { ready: false, reason: `readiness check failed: ${String(err)}` };
      }
      plainText(req, res, r.ready ? 200 : 503, r.ready ? 'ready\n' : `not ready: ${r.reason}\n`);
      return true;
    }
    case '/healthz':
      plainText(req, res, 200, 'ok\n');
      return true;
    default:
      return false;
  }
}
