// The built CLI (dist/src/cli/main.js) as a user runs it: real process, real exit codes.
// `npm test` builds first; running this file alone needs `npm run build`.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(root, 'dist', 'src', 'cli', 'main.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

let dir: string;
let emptyConfig: string;

/** The environment without the caller's own bridge settings, and an empty config file, so results do not depend on the host. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('AMPIO_BRIDGE_') && !k.startsWith('CAN_SERVER_')) env[k] = v;
  }
  return { ...env, AMPIO_BRIDGE_CONFIG: emptyConfig, ...extra };
}

function cli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], { env: cleanEnv(env), extendEnv: false, reject: false, timeout: 20_000 });
}

beforeAll(() => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-e2e-cli-'));
  emptyConfig = path.join(dir, 'empty.json');
  fs.writeFileSync(emptyConfig, '{}\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ampio-bridge (built)', () => {
  it('--help lists the commands, exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const name of ['serve', 'status', 'top', 'setup', 'doctor', 'discover', 'version']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(r.stderr).toBe('');
  });

  it('--version prints version, commit and build date', async () => {
    const r = await cli(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^ampio-bridge ${pkg.version.replace(/\./g, '\\.')} \\(commit \\S+, built \\S+\\)$`));
    // The build step recorded them: npm run build writes dist/build-info.json.
    const info = JSON.parse(fs.readFileSync(path.join(root, 'dist', 'build-info.json'), 'utf8'));
    expect(r.stdout).toContain(`built ${info.date}`);
    const v = await cli(['version', '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: pkg.version, date: info.date });
  });

  it('unknown command: one line naming the closest command, exit 2', async () => {
    const r = await cli(['serv']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('ampio-bridge: unknown command "serv" (did you mean "serve"?)');
    expect(r.stdout).toBe('');
  });

  it('serve --help renders every flag with its env var', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('--hub-buffer <n>');
    expect(r.stdout).toContain('env AMPIO_BRIDGE_HUB_BUFFER, default 512');
  });

  it('serve --bogus: names the flag, suggests only a close one, exit 2', async () => {
    const r = await cli(['serve', '--bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^ampio-bridge serve: unknown flag --bogus$/m);
    const typo = await cli(['serve', '--hub-bufer', '5']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('unknown flag --hub-bufer (did you mean --hub-buffer?)');
  });

  it('no command: the help on stderr, exit 2; -v is --version; help --help is the help', async () => {
    const none = await cli([]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('Commands:');
    expect((await cli(['-v'])).stdout).toMatch(/^ampio-bridge \d+\.\d+\.\d+ \(commit /);
    const help = await cli(['help', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Commands:');
  });

  it('a config file with a JSON syntax error: line and column, exit 2', async () => {
    const file = path.join(dir, 'syntax.json');
    fs.writeFileSync(file, '\uFEFF{\n  "hub-buffer": 64,\n  "listen" ":20000"\n}\n');
    const r = await cli(['serve', '--config', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`config file ${file}: JSON syntax error at line 3, column 12`);
  });

  it('serve --hub-buffer x --listen nope: both problems listed, exit 2', async () => {
    const r = await cli(['serve', '--backend', 'virtual', '--hub-buffer', 'x', '--listen', 'nope']);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ampio-bridge serve: '));
    expect(lines).toHaveLength(2);
    expect(r.stderr).toMatch(/--hub-buffer .*"x" is not a whole number.*AMPIO_BRIDGE_HUB_BUFFER/);
    expect(r.stderr).toMatch(/--listen .*"nope".*AMPIO_BRIDGE_LISTEN/);
    expect(r.stderr).not.toMatch(/tcp_listen|ready/);
  });

  it('a config error starts nothing: the port stays free', async () => {
    const port = await freePort();
    const r = await cli(['serve', '--backend', 'virtual', '--listen', `127.0.0.1:${port}`], { AMPIO_BRIDGE_BATCH_SIZE: 'many' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('from env AMPIO_BRIDGE_BATCH_SIZE');
    expect(r.stderr).not.toContain('tcp_listen');
    // Still bindable: the daemon never listened (and is gone).
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => probe.close(resolve));
  });

  it('names the config file and key of a bad value', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ 'hub-policy': 'maybe' }));
    const r = await cli(['serve', '--config', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`--hub-policy from ${file}, key "hub-policy": "maybe" is not one of drop, kick`);
  });
});

describe('serve lifecycle (built)', () => {
  it('a port in use: a clear message naming the fix, exit 1 (so systemd restarts it)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const r = await cli(['serve', '--backend', 'virtual', '--listen', `127.0.0.1:${port}`, '--control-socket', path.join(dir, 'inuse.sock')]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(r.stderr).toContain('--listen');
    } finally {
      blocker.close();
    }
  });

  it('SIGTERM with clients attached: clean shutdown summary, exit 0 within 2 s', async () => {
    const child = execa(
      process.execPath,
      [bin, 'serve', '--backend', 'virtual', '--virtual-rate', '1000', '--listen', '127.0.0.1:0', '--control-socket', path.join(dir, 'term.sock')],
      {
        env: cleanEnv(),
        extendEnv: false,
        reject: false,
      },
    );
    let err = '';
    const port = await new Promise<number>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /tcp_listen addr=127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
    });
    const sockets = Array.from({ length: 5 }, () => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('error', () => {});
      s.write('CANNELLONIv1');
      s.resume();
      return s;
    });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await child;
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/shutdown_signal signal=SIGTERM/);
    expect(r.stderr).toMatch(/shutdown_summary .*accepted=5 .*clean=true/);
    for (const s of sockets) s.destroy();
  });
});
