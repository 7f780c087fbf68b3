// The web page as a person sees it: the built `serve` (virtual bus with scripted traffic,
// capture on, a write token configured) and Debian's chromium. The overview shows the bus's
// frames/s; a frame a cannelloni client sends shows in the live view within a second; the
// history lists stored frames and offers the exports; a write without the token is refused,
// with it the frame reaches the bus (a cannelloni client sees it). Each page is
// photographed at phone and desktop width into a temp dir (never committed) and checked
// not blank; the paths are printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken, newToken } from '../../src/guard/web-token.js';
import { BridgeChild, REPO } from '../support/bridge-child.js';
import { DESKTOP, inkOf, launchBrowser, PHONE } from '../support/browser.js';
import { encode, TestClient } from '../support/cannelloni-client.js';

let bridge: BridgeChild;
let browser: Browser;
let base: string;
let dir: string;
let shots: string;
const token = newToken();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-web-e2e-'));
  shots = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-web-shots-'));
  bridge = await BridgeChild.start({
    // Sequence payloads: traffic at a known rate that the house decoder ignores, so the modules
    // on the house page are the scripted ones.
    args: [
      '--backend',
      'virtual',
      '--virtual-rate',
      '200',
      '--virtual-payload',
      'sequence',
      '--listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
      '--capture',
      path.join(dir, 'capture.db'),
      '--capture-commit-interval',
      '200ms',
      '--http-token-hash',
      await hashToken(token),
      '--ampio-config',
      path.join(REPO, 'test/fixtures/ampio/house.yaml'),
    ],
  });
  base = `http://${String(bridge.events('metrics_listen')[0].addr)}`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bridge?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`web screenshots: ${shots}`);
});

/** What a screen reader and a keyboard need: every field labelled, every button named, one h1, the skip link first. */
async function accessible(page: Page): Promise<void> {
  const problems = (await page.evaluate(`(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea')) if (el.labels.length === 0 && !el.getAttribute('aria-label')) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
    for (const el of document.querySelectorAll('button, a')) if (!(el.textContent.trim() || el.getAttribute('aria-label'))) out.push('unnamed ' + el.outerHTML.slice(0, 80));
    if (document.querySelectorAll('h1').length !== 1) out.push('h1 count ' + document.querySelectorAll('h1').length);
    if (!document.documentElement.lang) out.push('no lang');
    return out;
  })()`)) as string[];
  expect(problems).toEqual([]);
  // From the top of the page, the first Tab lands on the skip link.
  expect(await page.evaluate(`document.querySelector('a[href], button, input, select').className`)).toBe('skip');
}

async function shoot(page: Page, name: string): Promise<void> {
  await accessible(page);
  for (const [label, size] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    const png = await page.screenshot({ fullPage: true });
    const file = path.join(shots, `${name}-${label}.png`);
    fs.writeFileSync(file, png);
    const analyser = await browser.newPage();
    const check = await inkOf(analyser, png).finally(() => analyser.close());
    expect(check.width).toBe(size.width);
    // Not blank: text, cards and rules cover a visible share of the page in several colours.
    expect(check.ink, `${file} looks blank`).toBeGreaterThan(0.01);
    expect(check.colours).toBeGreaterThan(8);
  }
}

it('the overview shows the bus and its frames/s, and stays useful without JavaScript', async () => {
  const page = await browser.newPage({ viewport: DESKTOP });
  await page.goto(`${base}/`);
  const card = page.locator('[data-bus="can0"]');
  await expect.poll(async () => Number((await card.locator('[data-field="rxFps"]').textContent())?.replace(/,/g, '')), { timeout: 5000 }).toBeGreaterThan(100);
  expect(await card.locator('h3').textContent()).toContain('can0');
  expect(await page.getByRole('heading', { name: 'No warnings' }).count()).toBe(1);
  await shoot(page, 'overview');
  // prefers-color-scheme: dark gets the dark palette (the page's background turns dark).
  await page.emulateMedia({ colorScheme: 'dark' });
  const png = await page.screenshot();
  fs.writeFileSync(path.join(shots, 'overview-desktop-dark.png'), png);
  expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
  await page.close();

  const nojs = await browser.newPage({ viewport: PHONE, javaScriptEnabled: false });
  await nojs.goto(`${base}/`);
  expect(Number((await nojs.locator('[data-bus="can0"] [data-field="rxFps"]').textContent())?.replace(/,/g, ''))).toBeGreaterThan(100);
  await nojs.close();
});

it('a frame a client sends shows in the live view within a second', async () => {
  const page = await browser.newPage({ viewport: DESKTOP });
  await page.goto(`${base}/live`);
  await page.locator('#live-state', { hasText: 'live' }).waitFor({ timeout: 5000 });
  await page.locator('#live-rows tr').first().waitFor({ timeout: 5000 });
  const client = await TestClient.connect(bridge.port('cannelloni'));
  const sentAt = Date.now();
  client.send(encode({ id: (0x80000000 | 0x0abcdef1) >>> 0, data: [0xde, 0xad, 0xbe, 0xef] }));
  await page.locator('#live-rows td', { hasText: 'DE AD BE EF' }).first().waitFor({ timeout: 1000 });
  const latency = Date.now() - sentAt;
  console.log(`web live: the client's frame showed after ${latency} ms`);
  expect(await page.locator('#live-rows tr', { hasText: 'DE AD BE EF' }).first().textContent()).toContain('0ABCDEF1');
  client.destroy();
  await shoot(page, 'live');
  await page.close();
});

it('the history finds stored frames by ID and offers the exports', async () => {
  const page = await browser.newPage({ viewport: DESKTOP });
  await page.goto(`${base}/history`);
  await page.getByLabel('From').fill('10m');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('tbody tr').first().waitFor({ timeout: 5000 });
  expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
  const anchors = page.locator('.downloads a');
  const links: string[] = [];
  for (let i = 0; i < (await anchors.count()); i++) links.push(new URL((await anchors.nth(i).getAttribute('href')) ?? '', base).href);
  expect(links.some((l) => l.includes('format=candump'))).toBe(true);
  // Every export format the bridge has, each a download of this search.
  expect(links.map((l) => new URL(l).searchParams.get('format'))).toEqual(['candump', 'gvret-csv', 'asc', 'pcapng', 'pcap']);
  const log = await (await fetch(links.find((l) => l.includes('format=candump'))!)).text();
  expect(log.split('\n')[0]).toMatch(/^\(\d+\.\d{6}\) can0 [0-9A-F]{3,8}#/);
  const pcapng = await fetch(links.find((l) => l.includes('format=pcapng'))!);
  expect(pcapng.headers.get('content-disposition')).toMatch(/attachment; filename=".+\.pcapng"/);
  // A PCAPNG file starts with its Section Header Block (type 0x0A0D0D0A).
  expect(
    Buffer.from(await pcapng.arrayBuffer())
      .subarray(0, 4)
      .toString('hex'),
  ).toBe('0a0d0d0a');
  await shoot(page, 'history');
  // Paging: the next page holds the next 100 older frames.
  expect(await page.locator('.pager span').textContent()).toBe('frames 1–100');
  await page.getByRole('link', { name: 'Older →' }).click();
  await page.locator('.pager span', { hasText: 'frames 101–200' }).waitFor({ timeout: 5000 });
  const api = (await (await fetch(`${base}/api/capture?since=10m&bus=can0&offset=100`)).json()) as {
    rows: Array<{ bus: string; tsUs: number }>;
    offset: number;
    more: boolean;
  };
  expect(api.rows).toHaveLength(100);
  expect(api.offset).toBe(100);
  expect(api.rows.every((r, i) => r.bus === 'can0' && (i === 0 || r.tsUs <= api.rows[i - 1].tsUs))).toBe(true);
  expect((await fetch(`${base}/api/capture?since=yesterday-ish`)).status).toBe(400);
  await page.close();
});

it('a write without the token is refused; with it the frame reaches the bus', async () => {
  const client = await TestClient.connect(bridge.port('cannelloni'));
  const page = await browser.newPage({ viewport: PHONE });
  await page.goto(`${base}/live`);
  await page.getByLabel('ID (hex)').fill('1d0');
  await page.getByLabel('Data (hex)').fill('cafe01');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect.poll(() => page.locator('#write-result').textContent(), { timeout: 5000 }).toContain('a valid write token is needed');
  const before = (await (await fetch(`${base}/api/snapshot`)).json()) as { web: { writesRefused: number } };
  expect(before.web.writesRefused).toBeGreaterThanOrEqual(1);
  expect(bridge.events('web_write_refused').at(-1)).toMatchObject({ remote: '127.0.0.1', action: 'send', reason: 'no_token' });

  await page.getByLabel('Write token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('button', { name: 'Send' }).click();
  await expect.poll(() => page.locator('#write-result').textContent(), { timeout: 5000 }).toContain('send: done');
  await client.until(() => client.frames.some((f) => f.id === 0x1d0 && f.data.toString('hex') === 'cafe01'), 5000, "the web page's frame");
  expect(bridge.events('web_write').at(-1)).toMatchObject({ remote: '127.0.0.1', action: 'send', id: '1d0' });
  await shoot(page, 'live-send');
  client.destroy();
  await page.close();

  // A cross-site form cannot write: no token header, and not JSON.
  const forged = await fetch(`${base}/api/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'bus=can0&id=1d0&data=00',
  });
  expect(forged.status).toBe(401);
});

it('the house shows a module by its name with its temperature, a low supply highlighted, and switches an output with the token', async () => {
  const client = await TestClient.connect(bridge.port('cannelloni'));
  const ext = (a: number): number => (0x80000000 | a) >>> 0;
  // Diagnostics (FE 4F: supply ×0.2 V, temperature −100 °C) and binary outputs (FE 1E, bit 0 = bout.1).
  client.send(encode({ id: ext(0x1a1e), data: [0xfe, 0x4f, 120, 130] })); // 24.0 V, 30 °C
  client.send(encode({ id: ext(0x1a1e), data: [0xfe, 0x1e, 0x01, 0, 0, 0, 0, 0] })); // Hall ceiling on
  client.send(encode({ id: ext(0x19c7), data: [0xfe, 0x4f, 100, 125] })); // 20.0 V: below doctor's 21.6 V
  const page = await browser.newPage({ viewport: PHONE });
  await page.goto(`${base}/house`);
  const relays = page.locator('[data-module="00001a1e"]');
  await expect
    .poll(async () => (await relays.count()) > 0 && (await relays.locator('[data-field="temperature"]').textContent()), { timeout: 5000 })
    .toBe('30 °C');
  expect(await relays.locator('h3').textContent()).toContain('Relays ground floor');
  expect(await relays.locator('[data-field="supply"]').textContent()).toBe('24.0 V');
  expect(await relays.locator('h3 .badge').textContent()).toBe('online');
  expect(await relays.locator('[data-ref="bout.1"]').textContent()).toContain('Hall ceiling: on');
  const dimmer = page.locator('[data-module="000019c7"]');
  expect(await dimmer.locator('h3').textContent()).toContain('Dimmer living room');
  expect(await dimmer.locator('.fig.bad [data-field="supply"]').count()).toBe(1);
  await shoot(page, 'house');
  await page.goto(`${base}/house`);
  await page.getByLabel('Write token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('button', { name: 'Switch Hall ceiling off' }).click();
  await expect.poll(() => page.locator('#write-result').textContent(), { timeout: 5000 }).toContain('output: done');
  // The command goes to 0x0F000000 with the module's address first (the ampio encoders).
  await client.until(
    () => client.frames.some((f) => f.id === ext(0x0f000000) && f.data.subarray(0, 4).toString('hex') === '00001a1e'),
    5000,
    'the switch command',
  );
  const api = (await (await fetch(`${base}/api/modules`)).json()) as { modules: Array<{ key: string; name: string; temperatureC: number }> };
  expect(api.modules.find((m) => m.key === '00001a1e')).toMatchObject({ name: 'Relays ground floor', temperatureC: 30 });
  client.destroy();
  await page.close();
});
