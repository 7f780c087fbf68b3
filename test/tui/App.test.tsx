// The interactive app against the real control server and the real daemon stream: keys,
// selection, kick, sort, pause, help, and a daemon that goes away and comes back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { App } from '../../tui/App.js';
import { daemonStream } from '../../tui/source/daemon-stream.js';
import { startFixtureControlServer, type FixtureControlServer } from '../support/fixture-control-server.js';
import { makeClient, makeEvent, makeSnapshot } from './fixtures.js';

let dir: string;
let sock: string;
let server: FixtureControlServer;
let app: ReturnType<typeof render> | null = null;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'top-app-'));
  sock = path.join(dir, 'c.sock');
  server = await startFixtureControlServer(
    sock,
    makeSnapshot({ clients: [makeClient(1), makeClient(2, { remote: '10.0.0.2:40000' }), makeClient(3)] }),
  );
});

afterEach(async () => {
  app?.unmount();
  app = null;
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function start() {
  const source = (signal: AbortSignal) =>
    daemonStream({ socketPath: sock, intervalMs: 100, signal, backoff: { initialMs: 50, maxMs: 200, factor: 2 } });
  app = render(<App socketPath={sock} intervalMs={100} source={source} columns={80} rows={23} />);
  return app;
}

const screen = () => plain(app!.lastFrame() ?? '');

function waitFor(pred: (text: string) => boolean, what: string, ms = 5000): Promise<string> {
  return vi.waitFor(
    () => {
      const text = screen();
      if (!pred(text)) throw new Error(`screen never showed ${what}; last frame:\n${text}`);
      return text;
    },
    { timeout: ms, interval: 20 },
  );
}

const selectedRow = (text: string) => text.split('\n').find((l) => l.startsWith('▶')) ?? '';

async function press(key: string) {
  app!.stdin.write(key);
  await new Promise((r) => setTimeout(r, 30));
}

describe('App', () => {
  it('shows live data, selects with j/k/arrows, kicks with K y, cancels with any other key', async () => {
    start();
    await waitFor((t) => t.includes('CLIENTS 3'), 'three clients');
    expect(selectedRow(screen())).toMatch(/^▶\s+1 /);
    await press('j');
    await waitFor((t) => /^▶\s+2 /.test(selectedRow(t)), 'client 2 selected');
    await press('\u001B[B'); // down arrow
    await waitFor((t) => /^▶\s+3 /.test(selectedRow(t)), 'client 3 selected');
    await press('k');
    await waitFor((t) => /^▶\s+2 /.test(selectedRow(t)), 'client 2 selected again');

    await press('K');
    await waitFor((t) => t.includes('Kick client #2 10.0.0.2:40000'), 'the kick question');
    await press('n');
    await waitFor((t) => t.includes('kick cancelled'), 'cancelled');
    expect(server.kicks).toEqual([]);

    await press('K');
    await waitFor((t) => t.includes('Kick client #2'), 'the kick question');
    await press('y');
    await waitFor((t) => t.includes('kicked client #2 (10.0.0.2:40000)'), 'kick result');
    await waitFor((t) => t.includes('CLIENTS 2') && !t.includes('10.0.0.2:40000'), 'client 2 gone');
    expect(server.kicks).toEqual([2]);
    await waitFor((t) => /kicked 2/.test(t), 'kick count 2');
    // The row that took its place is selected, so K y can work down a list.
    expect(selectedRow(screen())).toMatch(/^▶\s+3 /);
  });

  it('s cycles the sort column, S reverses it', async () => {
    start();
    await waitFor((t) => t.includes('sort id ▲'), 'default sort');
    await press('s');
    await waitFor((t) => t.includes('sort remote ▲'), 'sort by remote');
    const rows = screen().split('\n').filter((l) => /^[▶ ][ !~]\s+\d+ /.test(l));
    expect(rows[0]).toContain('10.0.0.2:40000');
    await press('S');
    await waitFor((t) => t.includes('sort remote ▼'), 'reversed');
    await press('s');
    await waitFor((t) => t.includes('sort connected ▼'), 'sort by age');
  });

  it('p pauses the display (new data is not shown) and resumes', async () => {
    start();
    await waitFor((t) => t.includes('CLIENTS 3'), 'three clients');
    await press('p');
    await waitFor((t) => t.includes('PAUSED') && t.includes('⏸ paused'), 'paused');
    server.state = { ...server.state, clients: [...server.state.clients, makeClient(4)] };
    await new Promise((r) => setTimeout(r, 400)); // several refreshes
    expect(screen()).toContain('CLIENTS 3');
    await press('p');
    await waitFor((t) => t.includes('CLIENTS 4') && !t.includes('PAUSED'), 'resumed with new data');
  });

  it('? opens help, any key closes it', async () => {
    start();
    await waitFor((t) => t.includes('CLIENTS 3'), 'data');
    await press('?');
    await waitFor((t) => t.includes('ampio-bridge top — keys'), 'help');
    await press('x');
    await waitFor((t) => t.includes('CLIENTS 3') && !t.includes('— keys'), 'help closed');
  });

  it('events appear in the log with the next refresh', async () => {
    start();
    await waitFor((t) => t.includes('connected to the bridge'), 'local connect line');
    server.emit(makeEvent({ kind: 'bus_state', message: 'can0: error-active → error-passive', to: 'error-passive', time: Date.now() }));
    await waitFor((t) => t.includes('can0: error-active → error-passive'), 'the event');
  });

  it('daemon stops: waiting screen, then live data again when it is back', async () => {
    start();
    await waitFor((t) => t.includes('CLIENTS 3'), 'data');
    await server.stop();
    await waitFor((t) => t.includes(`waiting for the bridge at ${sock}`) && t.includes('✖ waiting'), 'waiting');
    server.state = makeSnapshot({ clients: [makeClient(9)] });
    await server.start();
    await waitFor((t) => t.includes('CLIENTS 1') && t.includes('● live'), 'live again');
    expect(screen()).toContain('lost the bridge');
  });

  it('q ends the app and closes the control connection', async () => {
    start();
    await waitFor((t) => t.includes('CLIENTS 3'), 'data');
    expect(server.connections).toBe(1);
    await press('q');
    const deadline = Date.now() + 3000;
    while (server.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.connections).toBe(0);
  });
});
