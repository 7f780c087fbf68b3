// setup for the Waveshare listener (Home Assistant's Ampio integration), all through the
// registry: a fresh `setup --yes --waveshare-listen …` install has no port clash (serve's own
// loader takes the file it wrote), a clashing answer is refused with a free one named, the
// wizard's yes gets free ports (20001 with one bus, 20002 with two), and doctor probes both.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetupDeps } from '../../provisioning/index.js';
import { freeAddress, OFFERED } from '../../provisioning/protocols.js';
import { runDoctorChecks, type DoctorDeps } from '../../provisioning/doctor.js';
import { PATHS, type Answers } from '../../provisioning/types.js';
import { loadConfig } from '../../src/config/load.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { validateWithServeLoader } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { RecordingRunner } from '../support/recording-runner.js';
import { NODE, planFor, STABLE_MAIN } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const deps = (extra: SetupDeps = {}): SetupDeps => ({
  nodePath: NODE,
  runningMain: STABLE_MAIN,
  version: '0.1.0',
  now: () => new Date('2025-03-01T10:00:00Z'),
  ...extra,
});

async function setup(args: string[]): Promise<{ code: number; out: string; err: string; root: string }> {
  const t = tempRoot('bookworm-fresh');
  cleanups.push(t.cleanup);
  const cli = captureCli({ isRoot: false });
  const code = await setupCommand(['--yes', '--root', t.root, ...args], cli.ctx, deps({ runner: new FakeSystem(t.root) }));
  return { code, out: cli.stdout(), err: cli.stderr(), root: t.root };
}

/** serve's loader on the written file: what the installed service will make of it. */
function serveLoads(root: string): ReturnType<typeof loadConfig> {
  return loadConfig({ argv: ['--config', path.join(root, PATHS.configFile)], env: {}, isRoot: true });
}

describe('setup: Waveshare', () => {
  it('fresh --yes --waveshare-listen on two buses: written, and serve takes the file (no clash)', async () => {
    const r = await setup(['--can-if', 'can0,can1', '--waveshare-listen', ':20002']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(path.join(r.root, PATHS.configFile), 'utf8'))).toMatchObject({
      'can-if': 'can0,can1',
      listen: ':20000',
      'waveshare-listen': ':20002',
    });
    const loaded = serveLoads(r.root);
    expect(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('; ')).toBe(true);
    expect(r.out).toMatch(
      /Home Assistant \(Settings → Devices & services → Add integration → Ampio\) connects with host and port .+:20002 \(can0\), .+:20003 \(can1\)\.$/m,
    );
  });

  it("fresh --yes --can-if can0 --waveshare-listen :20001 (Home Assistant's default): no clash", async () => {
    const r = await setup(['--can-if', 'can0', '--waveshare-listen', ':20001']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(path.join(r.root, PATHS.configFile), 'utf8'))).toMatchObject({
      'can-if': 'can0',
      listen: ':20000',
      'waveshare-listen': ':20001',
    });
    expect(serveLoads(r.root).ok).toBe(true);
  });

  it("a Waveshare port on cannelloni's second bus is refused before anything is written, naming a free one", async () => {
    const r = await setup(['--can-if', 'can0,can1', '--waveshare-listen', ':20001']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('setup stopped before changing anything');
    expect(() => readFileSync(path.join(r.root, PATHS.configFile))).toThrow();
    expect(r.out).toContain('--waveshare-listen: port 20001 is also the cannelloni port of can1 (--listen)');
    expect(r.out).toContain('choose another port, e.g. :20002');
  });

  it('off unless asked: a fresh --yes install writes no key; "no" over an earlier yes removes it', async () => {
    const r = await setup(['--can-if', 'can0']);
    expect(r.code, r.err).toBe(0);
    const config = () => JSON.parse(readFileSync(path.join(r.root, PATHS.configFile), 'utf8'));
    expect(config()).not.toHaveProperty('waveshare-listen');
    const again = async (args: string[]) =>
      setupCommand(['--yes', '--root', r.root, '--can-if', 'can0', ...args], captureCli({ isRoot: false }).ctx, deps({ runner: new FakeSystem(r.root) }));
    expect(await again(['--waveshare-listen', ':20001'])).toBe(0);
    expect(config()['waveshare-listen']).toBe(':20001');
    // A re-run without the flag keeps it (the installed answer is the default).
    expect(await again([])).toBe(0);
    expect(config()['waveshare-listen']).toBe(':20001');
    expect(await again(['--waveshare-listen', ''])).toBe(0);
    expect(config()).not.toHaveProperty('waveshare-listen');
  });

  it("a yes gets 20001 (Home Assistant's default) with one bus, the next free pair with two", async () => {
    const p = OFFERED.find((x) => x.option === 'waveshareListen')!;
    const base = { backend: 'socketcan', listen: ':20000', metricsAddr: '127.0.0.1:9100', listeners: { waveshareListen: '' } } as unknown as Answers;
    expect(freeAddress(p, { ...base, interfaces: ['can0'] })).toBe(':20001');
    expect(freeAddress(p, { ...base, interfaces: ['can0', 'can1'] })).toBe(':20002');
    expect(freeAddress(p, { ...base, listen: ':20001', interfaces: ['can0', 'can1'] })).toBe(':20003');
    expect(freeAddress(p, { ...base, backend: 'serial', interfaces: ['can0', 'can1'] })).toBe(':20001');
  });

  it('doctor probes the Waveshare port of each bus and says which is down', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    const run = await planFor(t.root, sys, { interfaces: ['can0', 'can1'], listeners: { waveshareListen: ':20002' } });
    const { applyPlan } = await import('../../provisioning/apply.js');
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: () => new Date(0), version: '0.1.0' })).ok).toBe(true);
    const probed: string[] = [];
    const d = {
      fs: run.fs,
      runner: new RecordingRunner([{ match: 'systemctl is-active ampio-bridge.service', result: { stdout: 'active\n' } }]),
      catalog: run.catalog,
      probeTcp: async (host: string, port: number) => (probed.push(`${host}:${port}`), port !== 20003),
      probeControl: async () => ({ ok: true, detail: 'ok' }),
      probeReady: async () => ({ status: 200, body: 'ok' }),
      browseMdns: async () => [],
      validateConfig: (p: string, env: Record<string, string>) => validateWithServeLoader(path.join(t.root, p), env, captureCli().ctx),
    } as unknown as DoctorDeps;
    const checks = await runDoctorChecks(d);
    expect(probed).toEqual(expect.arrayContaining(['127.0.0.1:20002', '127.0.0.1:20003']));
    expect(checks.find((c) => c.id === 'waveshare-20002')).toMatchObject({ status: 'ok' });
    expect(checks.find((c) => c.id === 'waveshare-20003')).toMatchObject({ status: 'fail', title: 'waveshare listening on 127.0.0.1:20003' });
  });
});
