// Who may connect and who may send, with real sockets bound to 127.0.0.2, 127.0.0.3 and ::1
// against the built daemon (virtual backend): the allow-list refuses before the hello, a
// listen-only client's frames never reach the bus, the TX guard lets exactly the allowed
// frames through, and SIGHUP applies new lists to clients already connected.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/control/protocol.js';
import { BridgeChild } from '../support/bridge-child.js';
import { CannelloniListener, closedSilently, frame, openFrom, sleep } from '../support/hostile-clients.js';
import { until } from '../support/until.js';

const bridges: BridgeChild[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[]): Promise<BridgeChild> {
  const b = await BridgeChild.start({ args: ['--backend', 'virtual', '--virtual-rate', '0', '--listen', ':0', '--metrics-addr', '127.0.0.1:0', ...args] });
  bridges.push(b);
  return b;
}

const snapshot = (b: BridgeChild): Promise<Snapshot> => b.snapshot();

/** /metrics, asked from `localAddress` (the HTTP server obeys --allow like the bus ports). */
function metrics(b: BridgeChild, localAddress = '127.0.0.1'): Promise<string> {
  const addr = String(b.events('metrics_listen')[0]?.addr);
  return new Promise((resolve, reject) => {
    http
      .get(`http://${addr}/metrics`, { localAddress }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function metric(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.split(' ').pop());
  }
  return 0;
}

describe('--allow: refused before the hello', () => {
  it('admits 127.0.0.2 and ::1, refuses 127.0.0.3 without a byte, counts and logs it', async () => {
    const b = await start(['--allow', '127.0.0.2/32,::1']);
    const port = b.port('cannelloni');
    const ok4 = await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    const ok6 = await CannelloniListener.connect(port, { host: '::1', localAddress: '::1' });
    expect(ok4.helloSeen && ok6.helloSeen).toBe(true);
    const no = await openFrom(port, { localAddress: '127.0.0.3' });
    expect(await closedSilently(no)).toBe(true);
    expect(metric(await metrics(b, '127.0.0.2'), 'hub_rejected_clients_total', { reason: 'not_allowed', protocol: 'cannelloni' })).toBe(1);
    // The HTTP server (/metrics, the web page) follows the same list: 127.0.0.1 is outside it.
    await expect(metrics(b, '127.0.0.1')).rejects.toThrow();
    expect(/^web_rejected_connections_total (\d+)$/m.exec(await metrics(b, '127.0.0.2'))?.[1]).toBe('1');
    const line = await b.waitFor((r) => r.event === 'client_not_allowed', 2000, 'client_not_allowed');
    expect(line).toMatchObject({ remote: expect.stringMatching(/^127\.0\.0\.3:\d+$/), protocol: 'cannelloni' });
    const snap = await snapshot(b);
    expect(snap.clients.map((c) => c.remote.replace(/:\d+$/, '')).sort()).toEqual(['127.0.0.2', '[::1]']);
    expect(snap.daemon.config.allow).toBe('127.0.0.2/32,::1');
  });
});

describe('--allow any', () => {
  it('admits every address and says so at start', async () => {
    const b = await start(['--allow', 'any']);
    const c = await CannelloniListener.connect(b.port('cannelloni'), { localAddress: '127.0.0.3' });
    expect(c.helloSeen).toBe(true);
    expect(b.events('allow_any')).toHaveLength(1);
    expect(String(b.events('allow_any')[0].message)).toMatch(/disarm the alarm/);
  });
});

describe('listen-only clients and the TX guard', () => {
  it('a 10,000-frame flood puts exactly the allowed frames on the bus; every refusal is counted; others unaffected', async () => {
    const b = await start(['--tx-allow', '127.0.0.2/32', '--tx-rate', '100/50', '--tx-ids', '100/700', '--echo', 'others']);
    const port = b.port('cannelloni');
    const sender = await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    const listenOnly = await CannelloniListener.connect(port, { localAddress: '127.0.0.3' });
    const watcher = await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    const t0 = Date.now();
    const burst: Buffer[] = [];
    // Every third frame has an ID outside 100/700.
    for (let i = 0; i < 10_000; i++) burst.push(frame(i % 3 === 0 ? 0x300 : 0x150, [i & 0xff]));
    sender.send(...burst);
    listenOnly.send(...burst);
    const forbidden = Math.ceil(10_000 / 3);
    await until(
      async () => {
        const s = await snapshot(b);
        const a = s.clients.find((c) => c.framesIn === 10_000 && !c.readOnly);
        const l = s.clients.find((c) => c.readOnly);
        return !!a && !!l && l.framesIn === 10_000;
      },
      'both floods read',
      10_000,
    );
    const elapsed = (Date.now() - t0) / 1000;
    await sleep(300); // echoes of the last accepted frames
    const s = await snapshot(b);
    const a = s.clients.find((c) => c.framesIn === 10_000 && !c.readOnly)!;
    const l = s.clients.find((c) => c.readOnly)!;
    const onBus = s.buses[0].txFrames;
    expect(a.txRefused!.id_not_allowed).toBe(forbidden);
    expect(onBus).toBe(10_000 - forbidden - a.txRefused!.rate_limited);
    expect(onBus).toBeGreaterThanOrEqual(50);
    expect(onBus).toBeLessThanOrEqual(50 + 100 * elapsed);
    expect(l.txRefused).toEqual({ read_only: 10_000, id_not_allowed: 0, rate_limited: 0 });
    // The listen-only client is still connected and still receives: the bus's frames reach it.
    expect(listenOnly.w.closed).toBe(false);
    expect(listenOnly.frames).toBe(onBus);
    expect(watcher.frames).toBe(onBus);
    const m = await metrics(b);
    expect(metric(m, 'tx_refused_total', { reason: 'read_only' })).toBe(10_000);
    expect(metric(m, 'tx_refused_total', { reason: 'id_not_allowed' })).toBe(forbidden);
    expect(metric(m, 'tx_refused_total', { reason: 'rate_limited' })).toBe(a.txRefused!.rate_limited);
    // First of each kind logged, once per session.
    const refusedLines = b.events('tx_refused');
    expect(refusedLines.map((r) => r.reason).sort()).toEqual(['id_not_allowed', 'rate_limited', 'read_only']);
  }, 30_000);
});

describe('SIGHUP applies new lists to live sessions', () => {
  it('a client no longer allowed is closed and counted; a sender made listen-only is refused from then on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ampio-reload-'));
    dirs.push(dir);
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ allow: 'local' }));
    const b = await start(['--config', file]);
    const port = b.port('cannelloni');
    const stays = await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    const goes = await CannelloniListener.connect(port, { localAddress: '127.0.0.3' });
    stays.send(frame(0x123));
    await until(async () => (await snapshot(b)).buses[0].txFrames === 1, 'the first frame on the bus', 3000);
    writeFileSync(file, JSON.stringify({ allow: '127.0.0.2/32', 'tx-allow': '127.0.0.9/32' }));
    b.reload();
    await goes.w.whenClosed;
    await b.waitFor((r) => r.event === 'reload', 3000, 'reload');
    const closedLine = await b.waitFor((r) => r.event === 'client_disconnected' && r.reason === 'not_allowed', 3000, 'the disconnect');
    expect(String(closedLine.remote)).toMatch(/^127\.0\.0\.3:/);
    expect(stays.w.closed).toBe(false);
    stays.send(frame(0x124));
    await until(async () => (await snapshot(b)).clients[0]?.txRefused?.read_only === 1, 'the read-only refusal', 3000);
    const s = await snapshot(b);
    expect(s.buses[0].txFrames).toBe(1);
    expect(metric(await metrics(b, '127.0.0.2'), 'hub_rejected_clients_total', { reason: 'not_allowed' })).toBe(1);
  }, 20_000);
});
