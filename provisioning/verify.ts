// After a start: wait until the daemon says it is ready, through its HTTP /ready (the
// metrics address) or, without one, its control socket's hello line. Liveness only: a
// deadline, then a clear "not ready yet" with where to look.

import { request } from 'node:http';
import { connect } from 'node:net';
import { parseListen } from '../src/config/options.js';

export type ReadyResult = { ready: true; via: string; detail: string } | { ready: false; via: string; detail: string };

function httpReady(host: string, port: number, timeoutMs: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/ready', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.slice(0, 4096)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** First NDJSON line of the control socket, or null. */
export function controlHello(socketPath: string, timeoutMs: number): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let buf = '';
    const done = (v: Record<string, unknown> | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        try {
          done(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        } catch {
          done(null);
        }
      } else if (buf.length > 65536) done(null);
    });
    s.on('error', () => done(null));
  });
}

export async function waitReady(o: {
  metricsAddr: string;
  controlSocket: string;
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
}): Promise<ReadyResult> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + o.timeoutMs;
  const addr = o.metricsAddr ? parseListen(o.metricsAddr, true) : null;
  const host = addr ? (addr.host === '' || addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host === '::' ? '::1' : addr.host) : '';
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (addr) {
      const r = await httpReady(host, addr.port, 2000);
      if (r?.status === 200)
        return { ready: true, via: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/ready`, detail: r.body.trim().slice(0, 200) };
      if (r) last = `/ready answered ${r.status}: ${r.body.trim().slice(0, 200)}`;
    } else {
      const hello = await controlHello(o.controlSocket, 2000);
      if (hello?.type === 'hello')
        return {
          ready: true,
          via: o.controlSocket,
          detail: `control socket answered (ampio-bridge ${String(hello.daemon)}, protocol ${String(hello.version)})`,
        };
    }
    await sleep(500);
  }
  return { ready: false, via: addr ? `http://${host}:${addr.port}/ready` : o.controlSocket, detail: last };
}
