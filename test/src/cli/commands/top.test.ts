// `ampio-bridge top` run in-process: flags, --help, --json / not a TTY, --once, daemon absent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseInterval, run } from '../../../../src/cli/commands/top.js';
import { captureCli } from '../../../support/cli-context.js';
import { startFixtureControlServer, type FixtureControlServer } from '../../../support/fixture-control-server.js';
import { makeClient, makeSnapshot } from '../../../tui/fixtures.js';

let dir: string;
let sock: string;
let server: FixtureControlServer | null = null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'top-cmd-'));
  sock = path.join(dir, 'c.sock');
});

afterEach(async () => {
  await server?.stop();
  server = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('top flags', () => {
  it('unknown flag: one line naming it and the closest valid one, exit 2', async () => {
    const cli = captureCli();
    expect(await run(['--intervl=2s'], cli.ctx)).toBe(2);
    expect(cli.stderr()).toBe('ampio-bridge top: unknown flag --intervl (did you mean --interval?)\n');
    const cli2 = captureCli();
    expect(await run(['--jsn'], cli2.ctx)).toBe(2);
    expect(cli2.stderr()).toBe('ampio-bridge top: unknown flag --jsn (did you mean --json?)\n');
  });

  it('bad or out-of-range interval: exit 2 with the expected form', async () => {
    for (const bad of ['fast', '10ms', '5m']) {
      const cli = captureCli();
      expect(await run(['--interval', bad, '--control-socket', sock], cli.ctx)).toBe(2);
      expect(cli.stderr()).toMatch(/^ampio-bridge top: --interval: .*\(expected a duration like 1s or 500ms\)\n$/);
    }
  });

  it('parseInterval accepts durations and bare seconds', () => {
    expect(parseInterval('1s')).toBe(1000);
    expect(parseInterval('250ms')).toBe(250);
    expect(parseInterval('2')).toBe(2000);
    expect(parseInterval('0.5')).toBe(500);
    expect(() => parseInterval('50ms')).toThrow(/outside 100ms..1m/);
  });

  it('--help lists every flag and the keys', async () => {
    const cli = captureCli();
    expect(await run(['--help'], cli.ctx)).toBe(0);
    for (const f of ['--interval', '--control-socket', '--once', '--json', 'NO_COLOR', 'K kick']) expect(cli.stdout()).toContain(f);
  });
});

describe('top one-shot output', () => {
  it('--json prints the snapshot the daemon serves', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot());
    const cli = captureCli({ isTTY: true });
    expect(await run(['--json', '--control-socket', sock], cli.ctx)).toBe(0);
    const printed = JSON.parse(cli.stdout());
    expect({ ...printed, time: 0 }).toEqual({ ...server.state, time: 0 });
  });

  it('not a TTY: JSON even without --json (no Ink)', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot());
    const cli = captureCli({ isTTY: false });
    expect(await run(['--control-socket', sock], cli.ctx)).toBe(0);
    expect(JSON.parse(cli.stdout()).daemon.pid).toBe(4242);
  });

  it('daemon not running: one clear line, exit 3', async () => {
    const cli = captureCli({ isTTY: false });
    expect(await run(['--control-socket', sock], cli.ctx)).toBe(3);
    expect(cli.stderr()).toMatch(/^ampio-bridge top: ampio-bridge is not running \(no control socket answers at .*c\.sock\)\. Start it with/);
    expect(cli.stderr().trim().split('\n')).toHaveLength(1);
    expect(cli.stdout()).toBe('');
  });

  it('--once renders one frame as text at COLUMNS x LINES, rates measured over one interval', async () => {
    server = await startFixtureControlServer(sock, makeSnapshot({ clients: [makeClient(1), makeClient(2)] }));
    const cli = captureCli({ isTTY: false, env: { COLUMNS: '80', LINES: '24' } });
    const s = server;
    // Frames move while top waits between its two readings.
    const timer = setInterval(() => {
      s.state = { ...s.state, clients: s.state.clients.map((c) => ({ ...c, framesOut: c.framesOut + 25 })) };
    }, 20);
    try {
      expect(await run(['--once', '--interval', '500ms', '--control-socket', sock], cli.ctx)).toBe(0);
    } finally {
      clearInterval(timer);
    }
    const lines = cli.stdout().replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const text = lines.join('\n');
    expect(text).not.toMatch(/\u001B\[/); // plain text for files and docs
    expect(text).toContain('CLIENTS 2');
    expect(text).toContain('● live');
    const row = lines.find((l) => /^\s+1 192\.168\.1\.11/.test(l))!;
    const outPerSec = Number(row.trim().split(/\s+/)[4]);
    expect(outPerSec).toBeGreaterThan(0);
    expect(lines[23]).toContain('ampio-bridge top --once');
  });

  it('--once with no daemon: exit 3', async () => {
    const cli = captureCli({ isTTY: true });
    expect(await run(['--once', '--control-socket', sock], cli.ctx)).toBe(3);
    expect(cli.stderr()).toContain('is not running');
  });
});
