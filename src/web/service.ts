// The web service: the daemon's one HTTP server with the pages, the API, the live feed (a
// frame tap) and /metrics, /ready, /healthz, in the daemon's service shape. Its snapshot
// section (`web`) carries the live viewers' drops and the writes, for `status --json` too.
import path from 'node:path';
import type http from 'node:http';
import type { Config, ListenAddress } from '../config/options.js';
import type { Snapshot } from '../control/protocol.js';
import type { CanFrame } from '../core/frame.js';
import type { LogFn } from '../core/log-fn.js';
import { findPackageRoot } from '../system/package-root.js';
import { createWebApp } from './app.js';
import { CaptureReader } from './history.js';
import type { AmpioView } from '../ampio/types.js';
import { createHousePages } from './house.js';
import { LiveFeed } from './live.js';
import { formatHostPort, WebServer } from './server.js';
import { TokenChecker } from '../guard/web-token.js';
import { Writes } from './writes.js';

export interface WebServiceOptions {
  config: Config;
  address: ListenAddress;
  hostname: string;
  version: string;
  buses: ReadonlyArray<{
    name: string;
    send(frame: CanFrame, origin: { session: number; protocol: string | null }): { ok: true } | { ok: false; reason: string };
  }>;
  source: { snapshot(): Snapshot; kick(id: number): boolean };
  probe: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  reload?: () => string[] | Promise<string[]>;
  /** The house layer (absent with --ampio=false): the house page, /api/modules, /api/state, /api/output. */
  ampio?: AmpioView | null;
  log: LogFn;
}

export interface WebService {
  name: string;
  readonly tap: LiveFeed;
  start(): Promise<void>;
  stop(): Promise<void>;
  reload(config: Config): void;
  contribute(snapshot: Snapshot): void;
  /** The bound address (null before start). */
  readonly address: { host: string; port: number } | null;
}

export function staticDir(): string {
  const root = findPackageRoot(import.meta.url);
  if (!root) throw new Error("the ampio-bridge package root was not found (src/web/static/ holds the page's script and style)");
  return path.join(root, 'src', 'web', 'static');
}

export function createWebService(o: WebServiceOptions): WebService {
  let live = o.config;
  const token = new TokenChecker(o.config.httpTokenHash);
  const feed = new LiveFeed((event, fields) => o.log('info', event, fields));
  const capture = o.config.capture ? new CaptureReader(o.config.capture) : null;
  const busNames = (): string[] => o.buses.map((b) => b.name);
  const house = o.ampio ? createHousePages({ view: o.ampio, refresh: () => void o.source.snapshot(), writes: () => token.configured, now: Date.now }) : null;
  /** Puts frames on the named bus in order; the first refusal's reason, or null. */
  const sendFrames = (busName: string, frames: CanFrame[]): string | null => {
    const bus = o.buses.find((b) => b.name === busName) ?? o.buses[0];
    for (const f of frames) {
      const r = bus.send(f, { session: 0, protocol: 'web' });
      if (!r.ok) return r.reason;
    }
    return null;
  };
  const writes = new Writes(
    token,
    {
      busNames,
      // session 0 = the bridge itself; the capture store records the protocol as "web".
      send: (bus, frame) => o.buses[bus].send(frame, { session: 0, protocol: 'web' }),
      kick: (id) => o.source.kick(id),
      reload: async () => (o.reload ? await o.reload() : []),
      txIds: () => live.txIds,
      extra: async (name, body) => (house && name === 'output' ? house.output(body, sendFrames) : null),
    },
    o.log,
  );
  const server = new WebServer({
    host: o.address.host,
    port: o.address.port,
    allow: () => live.allow,
    flag: o.config.httpListen ? 'http-listen' : 'metrics-addr',
    log: o.log,
    handle: createWebApp({
      hostname: o.hostname,
      version: o.version,
      busNames,
      snapshot: () => o.source.snapshot(),
      probe: o.probe,
      live: feed,
      capture,
      house,
      writes,
      staticDir: staticDir(),
      log: o.log,
    }),
  });
  return {
    name: 'web',
    tap: feed,
    get address() {
      const a = server.address;
      return a ? { host: a.address, port: a.port } : null;
    },
    async start() {
      const a = await server.start();
      // Every interface: the name people type (mDNS answers <host>.local when it is on).
      const shown =
        a.address === '::' || a.address === '0.0.0.0'
          ? o.config.mdnsEnable
            ? `${o.hostname.split('.')[0]}.local`
            : o.hostname
          : a.family === 'IPv6'
            ? `[${a.address}]`
            : a.address;
      o.log('info', 'web_ready', { url: `http://${shown}:${a.port}/`, writes: token.configured ? 'on' : 'off' });
    },
    async stop() {
      feed.closeAll();
      await server.stop();
      capture?.close();
    },
    reload(config) {
      live = config;
      token.update(config.httpTokenHash);
    },
    contribute(snapshot) {
      const a = server.address;
      if (!a) return;
      const c = feed.counters();
      snapshot.web = {
        address: formatHostPort(a),
        writes: token.configured,
        liveViewers: c.viewers,
        liveSent: c.sent,
        liveDropped: c.dropped,
        refused: server.refused,
        writesDone: writes.done,
        writesRefused: writes.refused,
      };
    },
  };
}
