// The receive-buffer ceiling setup writes for the unprivileged service: the sysctl drop-in
// (content, plan entry, loaded through the runner, idempotent, rolled back with the running
// value) on temp copies of the fixture Pi roots; only for the SocketCAN backend.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../provisioning/apply.js';
import { planUninstall } from '../../../provisioning/plan.js';
import { probe } from '../../../provisioning/probe.js';
import { rollback } from '../../../provisioning/rollback.js';
import { renderPlan } from '../../../provisioning/show.js';
import { wantedRmemMax } from '../../../provisioning/steps/rcvbuf-sysctl.js';
import { PATHS, type Plan, type WriteStep } from '../../../provisioning/types.js';
import { OPTIONS } from '../../../src/config/options.js';
import { FakeSystem } from '../../support/fake-system.js';
import { NODE, planFor, STABLE_MAIN } from '../../support/setup-harness.js';
import { tempRoot } from '../../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const DEFAULT = OPTIONS.canRcvbuf.default;
const now = () => new Date('2025-03-01T10:00:00Z');

function pi(fixture = 'bookworm-fresh') {
  const t = tempRoot(fixture);
  cleanups.push(t.cleanup);
  const sys = new FakeSystem(t.root);
  const host = (p: string) => path.join(t.root, p);
  const proc = () => readFileSync(host(PATHS.rmemMaxProc), 'utf8');
  return { root: t.root, sys, host, proc };
}

const sysctlWrite = (p: Plan) => p.steps.find((s): s is WriteStep => s.kind === 'write' && s.path === PATHS.sysctlConf);
const sysctlCommands = (lines: string[]) => lines.filter((l) => l.startsWith('sysctl'));

describe('setup: net.core.rmem_max drop-in', () => {
  it('plans the file (header, why, the ceiling) and loads it through the runner; the second run changes nothing', async () => {
    const { root, sys, host, proc } = pi();
    const run = await planFor(root, sys);
    expect(run.facts.rmemMax).toBe(212992);
    const step = sysctlWrite(run.plan);
    expect(step).toMatchObject({ id: 'rcvbuf-sysctl', before: null, mode: 0o644 });
    const text = step!.after;
    expect(text.split('\n')[0]).toBe('# managed by ampio-bridge setup, version 0.1.0');
    expect(text).toMatch(/unprivileged user/);
    expect(text).toMatch(/raises only that ceiling .* not any default/s);
    expect(text.trimEnd().split('\n').pop()).toBe(`net.core.rmem_max = ${DEFAULT}`);
    // Shown before anything is written, like the other files, with the load command.
    const shown = renderPlan(run.plan, { color: false });
    expect(shown).toContain(`Receive-buffer ceiling /etc/sysctl.d/60-ampio-bridge.conf: net.core.rmem_max = ${DEFAULT}`);
    expect(shown).toContain('$ sysctl -p /etc/sysctl.d/60-ampio-bridge.conf');

    sys.calls.length = 0;
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    expect(sysctlCommands(sys.lines)).toEqual(['sysctl -p /etc/sysctl.d/60-ampio-bridge.conf']);
    expect(readFileSync(host(PATHS.sysctlConf), 'utf8')).toBe(text);
    expect(proc()).toBe(`${DEFAULT}\n`);

    sys.calls.length = 0;
    const again = await planFor(root, sys);
    expect(again.plan.steps.filter((s) => s.id.startsWith('rcvbuf-sysctl'))).toEqual([]);
    expect(sysctlCommands(sys.lines)).toEqual([]);
  });

  it('uses the can-rcvbuf the config file holds (any form serve accepts) when it is above the default', async () => {
    const { root, sys, host } = pi();
    mkdirSync(path.dirname(host(PATHS.configFile)), { recursive: true });
    writeFileSync(host(PATHS.configFile), JSON.stringify({ backend: 'socketcan', 'can-rcvbuf': '64M' }));
    const run = await planFor(root, sys);
    expect(sysctlWrite(run.plan)?.after).toContain(`net.core.rmem_max = ${64 * 1024 * 1024}\n`);
    expect(run.plan.steps.find((s) => s.id === 'rcvbuf-sysctl-load')?.title).toContain(`212992 → ${64 * 1024 * 1024}`);
    // Never below the default, so a later --can-rcvbuf up to it needs no second setup.
    expect(wantedRmemMax({ 'can-rcvbuf': 65536 })).toBe(DEFAULT);
    expect(wantedRmemMax({ 'can-rcvbuf': 0 })).toBe(DEFAULT);
    expect(wantedRmemMax({})).toBe(DEFAULT);
    expect(wantedRmemMax({ 'can-rcvbuf': 'lots' })).toBe(DEFAULT);
    expect(wantedRmemMax({ 'can-rcvbuf': DEFAULT * 2 })).toBe(DEFAULT * 2);
    // The unit's environment file overrides the config file for serve, so here too.
    expect(wantedRmemMax({ 'can-rcvbuf': DEFAULT * 2 }, '# overrides\nAMPIO_BRIDGE_CAN_RCVBUF="32M"\n')).toBe(32 * 1024 * 1024);
  });

  it('setup --can-rcvbuf: written to config.json and the ceiling follows it', async () => {
    const { root, sys } = pi();
    const run = await planFor(root, sys, { canRcvbuf: 32 * 1024 * 1024 });
    const config = run.plan.steps.find((s): s is WriteStep => s.kind === 'write' && s.path === PATHS.configFile);
    expect(JSON.parse(config!.after)['can-rcvbuf']).toBe(32 * 1024 * 1024);
    expect(sysctlWrite(run.plan)?.after).toContain(`net.core.rmem_max = ${32 * 1024 * 1024}\n`);
    // without the flag an install keeps the daemon's default: no key written
    const plain = await planFor(root, sys);
    const plainConfig = plain.plan.steps.find((s): s is WriteStep => s.kind === 'write' && s.path === PATHS.configFile);
    expect(JSON.parse(plainConfig!.after)).not.toHaveProperty('can-rcvbuf');
  });

  it('a running ceiling already high enough: the file is still written, not loaded (it would lower it), and setup says so', async () => {
    const { root, sys, host, proc } = pi();
    const high = DEFAULT * 4;
    writeFileSync(host(PATHS.rmemMaxProc), `${high}\n`);
    const run = await planFor(root, sys);
    expect(sysctlWrite(run.plan)?.after).toContain(`net.core.rmem_max = ${DEFAULT}\n`);
    expect(run.plan.steps.map((s) => s.id)).not.toContain('rcvbuf-sysctl-load');
    expect(run.plan.notices.find((n) => n.text.includes('net.core.rmem_max is already'))?.text).toBe(
      `net.core.rmem_max is already ${high} in the running kernel, more than the ${DEFAULT} needed: not loaded now, so that stays until the next boot; /etc/sysctl.d/60-ampio-bridge.conf keeps at least ${DEFAULT} after it.`,
    );
    sys.calls.length = 0;
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    expect(sysctlCommands(sys.lines)).toEqual([]);
    expect(existsSync(host(PATHS.sysctlConf))).toBe(true);
    expect(proc()).toBe(`${high}\n`);
  });

  it('rollback removes the file and puts the running value back', async () => {
    const { root, sys, host, proc } = pi();
    const run = await planFor(root, sys);
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    expect(proc()).toBe(`${DEFAULT}\n`);
    sys.calls.length = 0;
    const r = await rollback({ fs: run.fs, runner: sys, now, live: true });
    expect(sysctlCommands(sys.lines)).toEqual(['sysctl -w net.core.rmem_max=212992']);
    expect(r.removed).toContain(PATHS.sysctlConf);
    expect(r.removed).toContain('/etc/sysctl.d/');
    expect(existsSync(host(PATHS.sysctlConf))).toBe(false);
    expect(proc()).toBe('212992\n');
  });

  it('a failing sysctl stops setup there with what to do, the file already in place', async () => {
    const { root, sys, host } = pi();
    sys.failOn = /^sysctl /;
    const run = await planFor(root, sys);
    const result = await applyPlan(run.plan, { fs: run.fs, runner: sys, now, version: '0.1.0' });
    expect(result.failed?.step.id).toBe('rcvbuf-sysctl-load');
    expect(result.failed?.error.hint).toContain('counts from the next boot');
    expect(result.failed?.error.hint).toContain('`sudo sysctl -p /etc/sysctl.d/60-ampio-bridge.conf`');
    expect(existsSync(host(PATHS.sysctlConf))).toBe(true);
  });

  it('uninstall removes the file like the other managed files', async () => {
    const { root, sys, host } = pi();
    const run = await planFor(root, sys);
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    const facts = await probe({ fs: run.fs, runner: sys, root: null, nodePath: NODE, runningMain: STABLE_MAIN, env: {} });
    const plan = planUninstall(facts);
    expect(plan.steps.find((s) => s.kind === 'remove' && s.path === PATHS.sysctlConf)?.id).toBe('rcvbuf-sysctl');
    expect((await applyPlan(plan, { fs: run.fs, runner: sys, now: () => new Date('2025-03-01T11:00:00Z'), version: '0.1.0', action: 'uninstall' })).ok).toBe(
      true,
    );
    expect(existsSync(host(PATHS.sysctlConf))).toBe(false);
  });

  it('serial backend: no file, no sysctl; switching a SocketCAN install to serial removes it', async () => {
    const serial = pi('serial-usb');
    const run = await planFor(serial.root, serial.sys, { backend: 'serial' });
    expect(sysctlWrite(run.plan)).toBeUndefined();
    expect(run.plan.steps.some((s) => s.kind === 'command' && s.argv[0] === 'sysctl')).toBe(false);

    const { root, sys, host } = pi();
    const first = await planFor(root, sys);
    expect((await applyPlan(first.plan, { fs: first.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    rmSync(host(PATHS.rebootMarker));
    const switched = await planFor(root, sys, { backend: 'serial', serial: '/dev/ttyUSB0' });
    expect(switched.plan.steps.find((s) => s.kind !== 'command' && s.path === PATHS.sysctlConf)).toMatchObject({ kind: 'remove', id: 'remove-rcvbuf-sysctl' });
  });

  it('--root: the file goes into the image, nothing is loaded or deferred (the image reads it at boot)', async () => {
    const { root, sys } = pi();
    const run = await planFor(root, sys, {}, { imageRoot: true });
    expect(run.facts.rmemMax).toBeNull();
    expect(sysctlWrite(run.plan)?.after).toContain(`net.core.rmem_max = ${DEFAULT}\n`);
    expect([...run.plan.steps, ...run.plan.deferred].some((s) => s.kind === 'command' && s.argv[0] === 'sysctl')).toBe(false);
  });

  it('live without /proc/sys to read: written, not loaded, and the plan says it counts from the next boot', async () => {
    const { root, sys, host } = pi();
    rmSync(host('/proc/sys'), { recursive: true });
    const run = await planFor(root, sys);
    expect(sysctlWrite(run.plan)).toBeDefined();
    expect(run.plan.steps.map((s) => s.id)).not.toContain('rcvbuf-sysctl-load');
    expect(run.plan.notices.map((n) => n.text)).toContain(
      'cannot read /proc/sys/net/core/rmem_max (is /proc mounted?): /etc/sysctl.d/60-ampio-bridge.conf takes effect at the next boot',
    );
  });
});
