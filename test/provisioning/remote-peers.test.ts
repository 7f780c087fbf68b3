// setup for cannelloni over UDP and for dial-out, all through the registry: `setup --yes` with
// the flags writes the keys, serve's own loader takes the file (a UDP port beside the TCP one
// of the same number is no clash), and a re-run that answers empty removes a dial-out target.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetupDeps } from '../../provisioning/index.js';
import { DIALS, OFFERED } from '../../provisioning/protocols.js';
import { PATHS } from '../../provisioning/types.js';
import { loadConfig } from '../../src/config/load.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { NODE, STABLE_MAIN } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const deps = (): SetupDeps => ({ nodePath: NODE, runningMain: STABLE_MAIN, version: '0.1.0', now: () => new Date('2025-03-01T10:00:00Z'), runner: undefined });

async function setup(root: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const cli = captureCli({ isRoot: false });
  const code = await setupCommand(['--yes', '--root', root, ...args], cli.ctx, { ...deps(), runner: new FakeSystem(root) });
  return { code, out: cli.stdout(), err: cli.stderr() };
}

const written = (root: string) => JSON.parse(readFileSync(path.join(root, PATHS.configFile), 'utf8')) as Record<string, unknown>;
const serveLoads = (root: string) => loadConfig({ argv: ['--config', path.join(root, PATHS.configFile)], env: {}, isRoot: true });

describe('setup: cannelloni UDP and dial-out', () => {
  it('the registry offers UDP (off unless asked) and asks for the cannelloni and tcpcan servers to dial', () => {
    expect(OFFERED.find((p) => p.name === 'cannelloni-udp')?.question.offeredOn).toBe(false);
    expect(DIALS.map((d) => d.flag)).toEqual(['cannelloni-connect', 'tcpcan-connect']);
  });

  it('--cannelloni-udp :20000 beside --listen :20000 and --cannelloni-connect: written, serve takes the file', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const r = await setup(t.root, ['--can-if', 'can0,can1', '--cannelloni-udp', ':20000', '--cannelloni-connect', 'bench.example:20000']);
    expect(r.code, r.err).toBe(0);
    expect(written(t.root)).toMatchObject({ listen: ':20000', 'cannelloni-udp': ':20000', 'cannelloni-connect': 'bench.example:20000' });
    const loaded = serveLoads(t.root);
    expect(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('; ')).toBe(true);
    expect(r.out).toMatch(/cannelloni in UDP mode connects with/);
    // A re-run that says no more dial-out: the key goes.
    const again = await setup(t.root, ['--cannelloni-connect', '']);
    expect(again.code, again.err).toBe(0);
    expect(written(t.root)['cannelloni-connect']).toBeUndefined();
    expect(written(t.root)['cannelloni-udp']).toBe(':20000');
  });

  it('a dial-out target without a host is refused before anything is written', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const r = await setup(t.root, ['--tcpcan-connect', ':20010']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/names no host/);
  });
});
