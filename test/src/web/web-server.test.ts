// The web server inside a real daemon (virtual buses, TCP on 127.0.0.1 port 0, real fetch
// and cannelloni clients): --metrics-addr as the older name of --http-listen, --allow before
// a byte is read, the write endpoints' rules (none without a token hash; token header, JSON,
// --tx-ids; counted and logged with the source address), and the live stream's filters.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VirtualBackend } from '../../../src/backends/virtual.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/options.js';
import { createStandardServices } from '../../../src/daemon.js';
import { makeFrame } from '../../../src/core/frame.js';
import { parseAddressList } from '../../../src/guard/address-list.js';
import { parseIdMaskList } from '../../../src/guard/id-mask.js';
import { hashToken } from '../../../src/guard/web-token.js';
import { TestClient } from '../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../support/daemon.js';

let running: TestDaemon | null = null;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.stop();
  running = null;
});

const HTTP = { host: '127.0.0.1', port: 0 };

async function start(overrides: Partial<Config>, reload?: () => string[]): Promise<{ d: TestDaemon; base: string }> {
  const d = await startTestDaemon(overrides, { services: (inputs) => createStandardServices(inputs, { controlSocketPath: null, env: {}, reload }) });
  running = d;
  const addr = String(d.records.find((r) => r.event === 'metrics_listen')?.addr);
  return { d, base: `http://${addr}` };
}

const post = (base: string, p: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('one HTTP server', () => {
  it('an old config with only --metrics-addr gets the same server there: pages, /api/, /metrics, /ready', async () => {
    const { d, base } = await start({ metricsAddr: HTTP });
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<h1>Overview</h1>');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect(await (await fetch(`${base}/ready`)).text()).toBe('ready\n');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    // /api/snapshot is the snapshot `status --json` prints: the same keys, plus this server's section.
    const api = (await (await fetch(`${base}/api/snapshot`)).json()) as Record<string, unknown>;
    const direct = d.daemon.snapshot() as unknown as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(Object.keys(direct).sort());
    expect(api.web).toMatchObject({ writes: false, liveViewers: 0, refused: 0 });
    expect((await fetch(`${base}/static/app.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
  });

  it('two different addresses are a configuration error that says what to do; the same address is one server', () => {
    const load = (argv: string[]) => loadConfig({ argv, env: {}, isRoot: false, userConfigDir: '/nonexistent-ampio-web-test' });
    const r = load(['--http-listen', ':8080', '--metrics-addr', '127.0.0.1:9100']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.message).join('\n')).toMatch(/one HTTP server.*remove --metrics-addr/s);
    expect(load(['--http-listen', '127.0.0.1:9100', '--metrics-addr', '127.0.0.1:9100']).ok).toBe(true);
    const clash = load(['--http-listen', ':20000']);
    expect(clash.ok).toBe(false);
    if (!clash.ok) expect(clash.errors[0].message).toContain('--http-listen');
  });
});

describe('--allow', () => {
  it('refuses an address outside --allow before reading a byte (counted, logged); a reload that admits it lets it in', async () => {
    const { d, base } = await start({ httpListen: HTTP, allow: parseAddressList('10.0.0.0/8') });
    await expect(fetch(`${base}/`)).rejects.toThrow();
    expect(d.daemon.snapshot().web?.refused).toBeGreaterThanOrEqual(1);
    expect(d.records.find((r) => r.event === 'http_not_allowed')).toMatchObject({ level: 'warn', remote: '127.0.0.1' });
    d.daemon.reload({ ...d.daemon.config, allow: parseAddressList('local') } as Config);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });
});

describe('writes', () => {
  it('without a token hash no write endpoint exists', async () => {
    const { base } = await start({ httpListen: HTTP });
    const r = await post(base, '/api/send', { bus: 'can0', id: '1d0', data: '01' });
    expect(r.status).toBe(404);
    expect(((await (await fetch(`${base}/api/`)).json()) as { writes: string[] }).writes).toEqual([]);
  });

  it('need the token as a header and a JSON body; a frame reaches the bus, --tx-ids applies, kick and reload work; each is counted and logged', async () => {
    const token = 'correct-horse-battery-staple-0123';
    let reloads = 0;
    const { d, base } = await start({ httpListen: HTTP, httpTokenHash: await hashToken(token), txIds: parseIdMaskList('100/700') }, () => {
      reloads++;
      return ['logLevel'];
    });
    const auth = { authorization: `Bearer ${token}` };
    const client = await TestClient.connect(d.port());
    clients.push(client);

    expect((await post(base, '/api/send', { id: '123', data: '01' })).status).toBe(401);
    expect((await post(base, '/api/send', { id: '123', data: '01' }, { authorization: 'Bearer wrong' })).status).toBe(401);
    const form = await fetch(`${base}/api/send`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=123&data=01',
    });
    expect(form.status).toBe(415);
    expect((await post(base, '/api/send', { id: '7ff', data: '01' }, auth)).status).toBe(403);
    expect((await post(base, '/api/send', { id: '123', data: 'zz' }, auth)).status).toBe(400);

    const ok = await post(base, '/api/send', { bus: 'can0', id: '123', data: 'cafe' }, auth);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sent: { bus: 'can0', id: 0x123, extended: false, data: 'cafe' } });
    await client.until(() => client.frames.some((f) => f.id === 0x123 && f.data.toString('hex') === 'cafe'), 5000, 'the frame the page sent');

    const victim = await TestClient.connect(d.port());
    clients.push(victim);
    await vi.waitFor(() => expect(d.daemon.snapshot().clients).toHaveLength(2), { timeout: 5000 });
    const id = Math.max(...d.daemon.snapshot().clients.map((c) => c.id));
    expect((await post(base, '/api/kick', { id }, auth)).status).toBe(200);
    await victim.until(() => victim.closed, 5000, 'the kicked client to close');
    expect((await post(base, '/api/kick', { id: 99_999 }, auth)).status).toBe(404);

    expect(await (await post(base, '/api/reload', {}, auth)).json()).toEqual({ changed: ['logLevel'] });
    expect(reloads).toBe(1);

    const web = d.daemon.snapshot().web!;
    expect(web).toMatchObject({ writes: true, writesDone: 3 });
    expect(web.writesRefused).toBe(6); // no token, wrong token, a form, outside --tx-ids, bad data, no such client
    expect(d.records.filter((r) => r.event === 'web_write').map((r) => r.action)).toEqual(['send', 'kick', 'reload']);
    expect(d.records.find((r) => r.event === 'web_write_refused' && r.reason === 'bad_token')).toMatchObject({ remote: '127.0.0.1', action: 'send' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('web_writes_total{result="done"} 3');
    expect(metrics).toContain('web_writes_total{result="refused"} 6');
    // The token never reaches the log.
    expect(JSON.stringify(d.records)).not.toContain(token);
  });
});

describe('live stream', () => {
  it('sends only the frames of the chosen bus and ID/mask', async () => {
    const { d, base } = await start({ httpListen: HTTP, canIf: ['can0', 'can1'] });
    const res = await fetch(`${base}/api/live?bus=can1&ids=100/700`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const inject = (bus: number, id: number): void => (d.daemon.bus(bus)!.backend as VirtualBackend).inject(makeFrame({ id, data: [bus, id & 0xff] }));
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !text.includes('"frames":[[')) {
      inject(0, 0x123);
      inject(1, 0x123);
      inject(1, 0x234);
      const chunk = await reader.read();
      text += new TextDecoder().decode(chunk.value);
    }
    await reader.cancel();
    const frames = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .flatMap((l) => (JSON.parse(l.slice(6)) as { frames: Array<[number, number, string, number]> }).frames);
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect([f[1], f[3]]).toEqual([1, 0x123]);
    expect((await fetch(`${base}/api/live?bus=can7`)).status).toBe(400);
    expect((await fetch(`${base}/api/live?ids=xyz`)).status).toBe(400);
  });
});
