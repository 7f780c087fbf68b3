// The routes of the web server: the four pages, the shipped static files, the JSON API under
// /api/ (the page's own data: the snapshot as `status --json` prints it, the capture search,
// the exports, the live event stream) and /metrics, /ready, /healthz. Writes live in
// writes.ts and exist only with a credential configured.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Snapshot } from '../control/protocol.js';
import type { LogFn } from '../core/log-fn.js';
import { hostKey } from '../guard/address-list.js';
import { parseIdMaskList } from '../guard/id-mask.js';
import { EXPORT_FORMATS, type ExportFormat, FORMAT_FILES, isExportFormat } from '../capture/formats/index.js';
import type { CaptureReader, SearchPage } from './history.js';
import type { LiveFeed } from './live.js';
import { historyMain } from './pages/history.js';
import { html, layout, type PageId, type Raw } from './pages/layout.js';
import { liveMain } from './pages/live.js';
import { overviewMain } from './pages/overview.js';
import type { HousePages } from './house.js';
import type { Writes } from './writes.js';
import { SECURITY_HEADERS, send, sendJson } from './respond.js';

export interface WebAppOptions {
  hostname: string;
  version: string;
  busNames: () => readonly string[];
  snapshot: () => Snapshot;
  /** /metrics, /ready, /healthz: true when it answered. */
  probe: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  live: LiveFeed;
  capture: CaptureReader | null;
  house: HousePages | null;
  writes: Writes;
  staticDir: string;
  log: LogFn;
}

const STATIC: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export function createWebApp(o: WebAppOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const staticFiles = new Map<string, Buffer>();
  const readStatic = (name: string): Buffer => {
    let b = staticFiles.get(name);
    if (!b) {
      b = fs.readFileSync(path.join(o.staticDir, name));
      staticFiles.set(name, b);
    }
    return b;
  };

  const page = (req: http.IncomingMessage, res: http.ServerResponse, id: PageId, title: string, main: Raw, refreshSec: number): void => {
    const head = req.method === 'HEAD';
    // ?fragment=1: only <main>'s content, for the client script's in-place refresh.
    if (new URL(req.url ?? '/', 'http://x').searchParams.get('fragment') === '1') {
      send(res, 200, 'text/html; charset=utf-8', main.html, head);
      return;
    }
    send(
      res,
      200,
      'text/html; charset=utf-8',
      layout({ page: id, title, hostname: o.hostname, version: o.version, refreshSec, writes: o.writes.enabled }, main),
      head,
    );
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const head = req.method === 'HEAD';
    if (req.method === 'POST' && p.startsWith('/api/')) {
      await o.writes.handle(req, res, p.slice('/api/'.length));
      return;
    }
    if (req.method !== 'GET' && !head) {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false, { allow: 'GET, HEAD' });
      return;
    }
    if (o.probe(req, res)) return;
    switch (p) {
      case '/':
        page(req, res, 'overview', 'Overview', overviewMain(o.snapshot(), { writes: o.writes.enabled }), 1);
        return;
      case '/live':
        page(
          req,
          res,
          'live',
          'Live frames',
          liveMain(o.busNames(), { writes: o.writes.enabled, bus: url.searchParams.get('bus') ?? '', ids: url.searchParams.get('ids') ?? '' }),
          0,
        );
        return;
      case '/house':
        page(
          req,
          res,
          'house',
          'The house',
          o.house ? o.house.main(url.searchParams) : html`<h1>The house</h1><p class="dim">The Ampio decoder is not running in this bridge.</p>`,
          5,
        );
        return;
      case '/history':
        page(req, res, 'history', 'History', await historyPage(url.searchParams), 0);
        return;
      case '/api/':
      case '/api':
        sendJson(
          res,
          200,
          {
            endpoints: ['/api/snapshot', '/api/capture', '/api/export', '/api/live', ...(o.house ? ['/api/modules', '/api/state'] : [])],
            writes: o.writes.enabled ? ['/api/send', '/api/kick', '/api/reload', ...(o.house ? ['/api/output'] : [])] : [],
          },
          head,
        );
        return;
      case '/api/snapshot':
        sendJson(res, 200, o.snapshot(), head);
        return;
      case '/api/capture':
        await captureApi(url.searchParams, res, head);
        return;
      case '/api/export':
        await exportApi(url.searchParams, req, res);
        return;
      case '/api/live':
        // HEAD: what a stream would be, without starting one.
        if (head) send(res, 200, 'text/event-stream; charset=utf-8', '', true);
        else liveApi(url.searchParams, req, res);
        return;
      default:
        if (p.startsWith('/static/') && STATIC[p.slice(8)]) {
          send(res, 200, STATIC[p.slice(8)], readStatic(p.slice(8)), head, { 'cache-control': 'max-age=300' });
          return;
        }
        if (o.house && p.startsWith('/api/') && o.house.api(p.slice(5), url.searchParams, res, head)) return;
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
  };

  const historyPage = async (params: URLSearchParams): Promise<Raw> => {
    const form = { since: params.get('since') ?? '', until: params.get('until') ?? '', bus: params.get('bus') ?? '', id: params.get('id') ?? '' };
    if (!o.capture) return historyMain({ buses: o.busNames(), form, capture: null, page: null, error: null });
    let pageResult: SearchPage | null = null;
    let error: string | null = null;
    try {
      pageResult = await o.capture.search(await o.capture.parse(params, Date.now()));
    } catch (err) {
      error = (err as Error).message;
    }
    return historyMain({ buses: o.busNames(), form, capture: o.capture.path, page: pageResult, error });
  };

  const captureApi = async (params: URLSearchParams, res: http.ServerResponse, head: boolean): Promise<void> => {
    if (!o.capture) {
      sendJson(res, 404, { error: 'capture is off', hint: 'start the bridge with --capture PATH' }, head);
      return;
    }
    try {
      sendJson(res, 200, await o.capture.search(await o.capture.parse(params, Date.now())), head);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message }, head);
    }
  };

  const exportApi = async (params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const format = params.get('format') ?? 'candump';
    if (!o.capture || !isExportFormat(format)) {
      sendJson(res, o.capture ? 400 : 404, { error: o.capture ? `format must be one of ${EXPORT_FORMATS.join(', ')}` : 'capture is off' });
      return;
    }
    let q: Awaited<ReturnType<typeof o.capture.parse>>;
    try {
      q = await o.capture.parse(params, Date.now());
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
      return;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const file = FORMAT_FILES[format as ExportFormat];
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${o.hostname.replace(/[^A-Za-z0-9.-]/g, '_')}-${stamp}.${file.extension}"`,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    try {
      const r = await o.capture.exportTo(q, format as ExportFormat, res);
      res.end();
      o.log('info', 'web_export', { remote: hostKey(req.socket.remoteAddress), format, frames: r.written, skipped: r.skipped });
    } catch {
      // The browser cancelled the download: nothing to answer.
      res.destroy();
    }
  };

  const liveApi = (params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void => {
    const names = o.busNames();
    const bus = params.get('bus') ?? '';
    let ids: ReturnType<typeof parseIdMaskList>;
    try {
      ids = parseIdMaskList(params.get('ids') ?? '');
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
      return;
    }
    if (bus !== '' && !names.includes(bus)) {
      sendJson(res, 400, { error: `no bus "${bus}" (buses: ${names.join(', ')})` });
      return;
    }
    if (o.live.full) {
      sendJson(res, 503, { error: 'too many live viewers; close one and try again' });
      return;
    }
    o.live.attach(res, { buses: bus === '' ? null : new Set([names.indexOf(bus)]), ids }, hostKey(req.socket.remoteAddress));
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.log('error', 'http_request_failed', { path: (req.url ?? '').split('?')[0], error: String(err) });
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error (logged)\n');
      else res.destroy();
    });
  };
}
