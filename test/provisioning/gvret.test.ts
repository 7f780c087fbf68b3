// setup and doctor for the GVRET listener: port 23 (SavvyCAN's only port) gets exactly one
// capability in the unit, other ports none; "no" removes an earlier answer; doctor checks
// the port and names the missing capability.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { loadCatalog } from '../../provisioning/catalog.js';
import { runDoctorChecks, type DoctorDeps } from '../../provisioning/doctor.js';
import { RecordingRunner } from '../support/recording-runner.js';
import { privilegedPort } from '../../provisioning/steps/service-unit.js';
import { PATHS, type Answers } from '../../provisioning/types.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor, setupFlagsOf } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';
import { validateWithServeLoader } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';

const fx = (name: string) => readFileSync(path.join(process.cwd(), 'test/fixtures/transcripts', name), 'utf8');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function install(over: Partial<Answers>): Promise<{ root: string; run: Awaited<ReturnType<typeof planFor>> }> {
  const t = tempRoot('bookworm-fresh');
  cleanups.push(t.cleanup);
  const sys = new FakeSystem(t.root);
  const run = await planFor(t.root, sys, over);
  expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: () => new Date(0), version: '0.1.0' })).ok).toBe(true);
  return { root: t.root, run };
}

const fileOf = (root: string, p: string) => readFileSync(path.join(root, p), 'utf8');

describe('setup: GVRET', () => {
  it('port 23: config has gvret-listen and the unit grants CAP_NET_BIND_SERVICE, nothing else', async () => {
    const { root } = await install({ listeners: { gvretListen: ':23' } });
    expect(JSON.parse(fileOf(root, PATHS.configFile))['gvret-listen']).toBe(':23');
    const unit = fileOf(root, PATHS.unit);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(unit).not.toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit.match(/^(CapabilityBoundingSet|AmbientCapabilities)=/gm)).toHaveLength(2);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
  });

  it('an unprivileged port (2323) keeps the unit without capabilities', async () => {
    const { root } = await install({ listeners: { gvretListen: ':2323' } });
    expect(JSON.parse(fileOf(root, PATHS.configFile))['gvret-listen']).toBe(':2323');
    expect(fileOf(root, PATHS.unit)).toMatch(/^CapabilityBoundingSet=\nAmbientCapabilities=$/m);
  });

  it('a re-run offers the installed answer; answering "off" removes the key and the capability', async () => {
    const { root } = await install({ listeners: { gvretListen: ':23' } });
    const sys = new FakeSystem(root);
    const same = await planFor(root, sys);
    expect(same.answers.listeners.gvretListen).toBe(':23');
    expect(same.plan.steps.map((s) => s.id)).not.toContain('config');
    const off = await planFor(root, sys, { listeners: { gvretListen: '' } });
    const config = off.plan.steps.find((s) => s.id === 'config');
    const unit = off.plan.steps.find((s) => s.id === 'unit');
    expect(config?.kind === 'write' && JSON.parse(config.after)['gvret-listen']).toBe(undefined);
    expect(unit?.kind === 'write' && unit.after).toMatch(/^CapabilityBoundingSet=$/m);
  });

  it('without GVRET nothing changes for existing installs (no key written)', async () => {
    const { root } = await install({});
    expect(JSON.parse(fileOf(root, PATHS.configFile))).not.toHaveProperty('gvret-listen');
  });

  it('--gvret-listen is a setup flag, checked with the daemon parser', async () => {
    expect(setupFlagsOf(['--gvret-listen', ':23']).answers.listeners?.gvretListen).toBe(':23');
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const run = await planFor(t.root, new FakeSystem(t.root), { listeners: { gvretListen: 'nonsense' } });
    const errors = run.plan.notices.filter((n) => n.level === 'error').map((n) => n.text);
    expect(errors).toEqual([expect.stringMatching(/^--gvret-listen: /)]);
    expect(run.plan.steps).toEqual([]);
  });

  it('privilegedPort', () => {
    expect(privilegedPort(':23')).toBe(23);
    expect(privilegedPort('0.0.0.0:23')).toBe(23);
    expect(privilegedPort('[::]:23')).toBe(23);
    expect(privilegedPort(':2323')).toBeNull();
    expect(privilegedPort('')).toBeNull();
  });
});

describe('doctor: GVRET', () => {
  async function doctor(root: string, fs: DoctorDeps['fs'], tcp: (port: number) => boolean) {
    for (const d of ['spi0.0', 'spi0.1']) mkdirSync(path.join(root, 'sys/bus/spi/devices', d), { recursive: true });
    rmSync(path.join(root, PATHS.rebootMarker), { force: true });
    const runner = new RecordingRunner([
      { match: 'dmesg', result: { stdout: fx('dmesg-healthy.txt') } },
      { match: 'ip -details -statistics -json link show type can', result: { stdout: fx('ip-link-healthy.json') } },
      { match: 'systemctl is-active ampio-bridge.service', result: { stdout: 'active\n' } },
    ]);
    const probed: number[] = [];
    const checks = await runDoctorChecks({
      fs,
      runner,
      catalog: await loadCatalog(),
      probeTcp: async (_h, p) => (probed.push(p), tcp(p)),
      probeControl: async () => ({ ok: true, detail: 'ok' }),
      probeReady: async () => ({ status: 200, body: 'ok' }),
      browseMdns: async () => [{ name: 'x', port: 20000 }],
      validateConfig: (p, env) => validateWithServeLoader(path.join(root, p), env, captureCli().ctx),
    });
    return { gvret: checks.find((c) => c.id.startsWith('gvret-')), probed };
  }

  it('checks the GVRET port: ok when it answers', async () => {
    const { root, run } = await install({ listeners: { gvretListen: ':23' } });
    const { gvret, probed } = await doctor(root, run.fs, () => true);
    expect(probed).toContain(23);
    expect(gvret).toMatchObject({ status: 'ok', title: 'gvret listening on 127.0.0.1:23' });
  });

  it('port 23 without the capability in the unit: fail, with the fix', async () => {
    const { root, run } = await install({});
    const cfgPath = path.join(root, PATHS.configFile);
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), 'gvret-listen': ':23' }));
    const { gvret } = await doctor(root, run.fs, (p) => p !== 23);
    expect(gvret?.status).toBe('fail');
    expect(gvret?.detail).toMatch(/CAP_NET_BIND_SERVICE/);
    expect(gvret?.fix).toMatch(/setup/);
  });

  it('capability granted but nothing listening: fail, pointing at the journal', async () => {
    const { root, run } = await install({ listeners: { gvretListen: ':23' } });
    const { gvret } = await doctor(root, run.fs, (p) => p !== 23);
    expect(gvret).toMatchObject({ status: 'fail', detail: 'nothing accepts connections' });
  });

  it('no GVRET configured: no check', async () => {
    const { root, run } = await install({});
    expect((await doctor(root, run.fs, () => true)).gvret).toBeUndefined();
  });
});
