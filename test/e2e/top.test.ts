// `ampio-bridge top` as a person uses it: the built CLI in a real terminal (a private tmux
// server), against a real daemon on the virtual bus with real cannelloni TCP clients. Keys go
// in with send-keys, the screen comes back with capture-pane.
// `npm test` builds first; running this file alone needs `npm run build`. tmux comes from .ci/run.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/control/protocol.js';
import { createTmux, type TmuxHarness } from '../support/tmux.js';
import { TestClient } from '../support/cannelloni-client.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** Our own tmux server: never the user's, and killed whole at the end. */
const TMUX = `ampio-top-e2e-${process.pid}`;

let dir: string;
let sock: string;
let emptyConfig: string;
let daemon: ChildProcess | null = null;
let port = 0;
const clients: TestClient[] = [];
/** Local ports of `clients`, taken while connected (a closed socket forgets its address). */
const clientPorts: number[] = [];

/** The environment without bridge settings or CI markers (Ink draws nothing live when it thinks it is in CI). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('AMPIO_BRIDGE_') || k.startsWith('CAN_SERVER_')) continue;
    if (k === 'CI' || k === 'CONTINUOUS_INTEGRATION' || k === 'NO_COLOR' || k === 'TMUX') continue;
    env[k] = v;
  }
  return { ...env, AMPIO_BRIDGE_CONFIG: emptyConfig, TERM: 'xterm-256color' };
}

let term: TmuxHarness;
/** tmux commands against the private server, as { stdout } like execa. */
async function tmux(...args: string[]): Promise<{ stdout: string }> {
  return { stdout: (await term.tmux(...args)).replace(/\n$/, '') };
}

async function startDaemon(): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'serve', '--backend', 'virtual', '--listen', '127.0.0.1:0', '--control-socket', sock], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  daemon = child;
  let log = '';
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in 15 s:\n${log}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /tcp_listen addr=127\.0\.0\.1:(\d+)/.exec(log);
      if (m && /\bready\b/.test(log)) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}:\n${log}`)));
  });
}

async function killDaemon(): Promise<void> {
  const child = daemon;
  daemon = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL'); // a crash: no goodbye on the control socket, a stale socket file left behind
  await exited;
}

async function statusJson(): Promise<Snapshot> {
  const r = await execa(process.execPath, [BIN, 'status', '--json', '--control-socket', sock], { env: cleanEnv(), extendEnv: false });
  return JSON.parse(r.stdout) as Snapshot;
}

function screen(): Promise<string> {
  return term.screen('top');
}

function waitScreen(pred: (text: string) => boolean, what: string, ms = 15_000): Promise<string> {
  return term.waitFor('top', pred, what, ms);
}

function keys(...k: string[]): Promise<void> {
  return term.keys('top', ...k);
}

/** A client row: marker, health mark, id, remote, … (80-column layout). */
function clientRows(text: string): { selected: boolean; id: number; remote: string; cols: string[] }[] {
  return text
    .split('\n')
    .filter((l) => /^[▶ ][ !~]\s+\d+ \S+:\d+/.test(l))
    .map((l) => {
      const cols = l.slice(2).trim().split(/\s+/);
      return { selected: l.startsWith('▶'), id: Number(cols[0]), remote: cols[1], cols };
    });
}

function totalsOf(text: string): Record<string, number> {
  const line = text.split('\n').find((l) => l.startsWith('TOTALS')) ?? '';
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/([a-z-]+) (\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

beforeAll(async () => {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first (npm test does)`);
  await execa('tmux', ['-V']).catch(() => {
    throw new Error('tmux is not installed: apt-get install tmux (.ci/run installs it)');
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-e2e-top-'));
  sock = path.join(dir, 'control.sock');
  emptyConfig = path.join(dir, 'empty.json');
  fs.writeFileSync(emptyConfig, '{}\n');
  term = createTmux(TMUX, { env: cleanEnv() });
  await startDaemon();
  for (let i = 0; i < 3; i++) {
    const c = await TestClient.connect(port);
    clients.push(c);
    clientPorts.push(c.socket.localPort!);
  }
  // A shell prints a marker before and after top, so the test can see what quitting leaves.
  const script = `echo BEFORE-TOP; node ${JSON.stringify(BIN)} top --interval 500ms --control-socket ${JSON.stringify(sock)}; echo "TOP-EXITED $?"; exec sleep 600`;
  await tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', 'sh', '-c', script);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  // kill-server leaves the socket file behind; remove ours by its exact path.
  const socketPath = (await tmux('display-message', '-p', '#{socket_path}').catch(() => ({ stdout: '' }))).stdout.trim();
  await tmux('kill-server').catch(() => {});
  if (socketPath.includes(TMUX)) fs.rmSync(socketPath, { force: true });
  await killDaemon();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('ampio-bridge top in a terminal', () => {
  it('shows the bridge in the alternate screen, and the numbers match status --json', async () => {
    let text = await waitScreen((t) => t.includes('CLIENTS 3') && t.includes('● live'), 'three clients, live');
    expect((await tmux('display-message', '-p', '-t', 'top', '#{alternate_on}')).stdout).toBe('1');
    // Per-client rates need two readings; wait until every client shows one.
    text = await waitScreen((t) => clientRows(t).length === 3 && clientRows(t).every((r) => Number(r.cols.at(-5)) > 0), 'client rates');
    const status = await statusJson();
    const lines = text.split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);

    expect(lines[0]).toContain(`ampio-bridge ${status.daemon.version}`);
    expect(lines[0]).toContain(`pid ${status.daemon.pid}`);
    expect(lines[1]).toContain(`backend ${status.daemon.backend} · listen ${status.daemon.listen[0]}`);
    const bus = status.buses[0];
    expect(text).toMatch(new RegExp(`● ${bus.name} {2}${bus.backendState} {2}${bus.busState} `));
    expect(text).toContain(`${status.clients.length} clients`);

    // The same clients, by id and remote address.
    const rows = clientRows(text);
    expect(rows.map((r) => `${r.id} ${r.remote}`).sort()).toEqual(status.clients.map((c) => `${c.id} ${c.remote}`).sort());
    // The same totals.
    const totals = totalsOf(text);
    expect(totals).toMatchObject({
      active: status.totals.active,
      acc: status.totals.accepted,
      rejected: status.totals.rejected,
      kicked: status.totals.kicked,
      'hs-fail': status.totals.handshakeFailures,
      malformed: status.totals.malformed,
    });
    // Rates: each client gets the whole bus, so its out/s is about the bus rx/s the daemon reports.
    const rxShown = Number(/ rx (\d+(?:\.\d+)?)\/s/.exec(text)![1]);
    expect(rxShown).toBeGreaterThan(bus.rxFps * 0.5);
    expect(rxShown).toBeLessThan(bus.rxFps * 1.5 + 5);
    for (const r of rows) {
      expect(Number(r.cols.at(-5))).toBeGreaterThan(rxShown * 0.5);
      // Connected seconds ago, as the daemon's connectedAt (epoch ms) says.
      expect(r.cols[2]).toMatch(/^\d+s$/);
    } // OUT/S, counted from the right (CONNECTED may hold a space)
  });

  it('follows a resize to 120x40 (wide columns appear) and back to 80x24', async () => {
    await tmux('resize-window', '-t', 'top', '-x', '120', '-y', '40');
    const wide = await waitScreen((t) => t.includes('BYTES OUT'), 'the wide table');
    expect(wide.split('\n').some((l) => l.length > 80)).toBe(true);
    await tmux('resize-window', '-t', 'top', '-x', '80', '-y', '24');
    const narrow = await waitScreen((t) => !t.includes('BYTES OUT') && t.includes('CLIENTS 3'), 'the narrow table');
    for (const l of narrow.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('selects a client with j and kicks it with K y: it disappears and the kick count goes up', async () => {
    let text = await waitScreen((t) => clientRows(t).some((r) => r.selected), 'a selected row');
    const first = clientRows(text).find((r) => r.selected)!;
    await keys('j');
    text = await waitScreen((t) => clientRows(t).find((r) => r.selected)?.id !== first.id, 'the selection moving');
    const target = clientRows(text).find((r) => r.selected)!;
    await keys('K');
    await waitScreen((t) => t.includes(`Kick client #${target.id} ${target.remote}`), 'the kick question');
    await keys('y');
    text = await waitScreen(
      (t) => t.includes('CLIENTS 2') && !clientRows(t).some((r) => r.id === target.id) && totalsOf(t).kicked === 1,
      `client #${target.id} gone and kicked 1`,
    );
    const status = await statusJson();
    expect(status.totals.kicked).toBe(1);
    expect(status.clients.map((c) => c.id)).not.toContain(target.id);
    // The kicked TCP client really was disconnected.
    const port = Number(target.remote.split(':').at(-1));
    const victim = clients[clientPorts.indexOf(port)];
    expect(victim).toBeDefined();
    await victim.whenClosed;
    expect(clients.filter((c) => !c.closed)).toHaveLength(2);
  });

  it('a killed daemon shows the waiting screen; a restarted one shows live data again', async () => {
    const oldPid = (await statusJson()).daemon.pid;
    await killDaemon();
    await waitScreen((t) => t.includes(`waiting for the bridge at ${sock}`) || t.includes('waiting for the bridge at …'), 'the waiting screen');
    expect(await screen()).toContain('✖ waiting');
    await startDaemon();
    const text = await waitScreen((t) => t.includes('● live') && t.includes('CLIENTS 0'), 'live data from the new daemon');
    const status = await statusJson();
    expect(status.daemon.pid).not.toBe(oldPid);
    expect(text).toContain(`pid ${status.daemon.pid}`);
    expect(text).toContain('lost the bridge');
  });

  it('q quits and restores the terminal: main screen back, cursor visible, exit code 0', async () => {
    await keys('q');
    const text = await waitScreen((t) => t.includes('TOP-EXITED'), 'top exiting');
    expect(text).toContain('BEFORE-TOP');
    expect(text).toContain('TOP-EXITED 0');
    expect(text).not.toContain('CLIENTS');
    expect((await tmux('display-message', '-p', '-t', 'top', '#{alternate_on} #{cursor_flag}')).stdout).toBe('0 1');
  });
});
