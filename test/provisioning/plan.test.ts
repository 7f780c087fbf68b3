// Plans over fixture systems, each generated file compared with a golden file
// (test/golden/plan/<scenario>/files/…) and the whole plan as people see it (plan.txt).

import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { renderFacts, renderPlan } from '../../provisioning/show.js';
import { PATHS, type Plan } from '../../provisioning/types.js';
import { FakeSystem } from '../support/fake-system.js';
import { expectGolden } from '../support/golden.js';
import { NPX_MAIN, planFor, type PlanRun } from '../support/setup-harness.js';
import { SYSTEMS_DIR, tempRoot } from '../support/temp-root.js';
import * as path from 'node:path';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const plain = { color: false };
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function goldenPlan(scenario: string, run: PlanRun, root?: string): void {
  let text = `${renderFacts(run.facts, plain)}\n\n${renderPlan(run.plan, plain)}\n`;
  if (root) text = text.split(root).join('<ROOT>');
  expectGolden(`plan/${scenario}/plan.txt`, text);
  for (const s of run.plan.steps) {
    if (s.kind === 'write') expectGolden(`plan/${scenario}/files${s.path}`, s.after);
  }
}

const ids = (p: Plan) => p.steps.map((s) => s.id);

describe('plan over fixture systems', () => {
  it('fresh Bookworm with NetworkManager: full install, reboot, networkd next to NM', async () => {
    const runner = new FakeSystem(path.join(SYSTEMS_DIR, 'bookworm-fresh'));
    const run = await planFor(path.join(SYSTEMS_DIR, 'bookworm-fresh'), runner);
    goldenPlan('bookworm-fresh', run);
    expect(run.facts.boot.path).toBe('/boot/firmware/config.txt');
    expect(ids(run.plan)).toEqual([
      'boot-config',
      'network',
      'link',
      'network-manager',
      'enable-networkd',
      'disable-networkd-wait-online',
      'service-user',
      'config',
      'env-file',
      'unit',
      'rcvbuf-sysctl',
      'rcvbuf-sysctl-load',
      'daemon-reload',
      'enable',
      'reboot-marker',
    ]);
    expect(run.plan.needsReboot).toBe(true);
    // No start before the reboot: the overlays are not loaded yet.
    expect(ids(run.plan)).not.toContain('restart');
    const boot = run.plan.steps[0];
    expect(boot.kind === 'write' && boot.after.endsWith('# <<< ampio-bridge <<<\n')).toBe(true);
    const config = JSON.parse(
      run.plan.steps.find((s) => s.id === 'config')!.kind === 'write' ? (run.plan.steps.find((s) => s.id === 'config') as { after: string }).after : '{}',
    );
    expect(config).toEqual({
      backend: 'socketcan',
      'can-if': 'can0,can1',
      bitrate: 50000,
      listen: ':20000',
      'max-clients': 0,
      'hub-policy': 'drop',
      'mdns-enable': true,
      // The web page's server (setup's default on the LAN) also serves /metrics: no metrics-addr.
      'http-listen': ':8080',
      'socketcand-listen': ':29536',
      // It broadcasts to the whole LAN: asked, off unless answered yes (issue 28).
      'socketcand-beacon': false,
      capture: '/var/lib/ampio-bridge/capture.db',
    });
  });

  it('Bookworm whose file ends under [cm5] without a newline: our block brings its own [all]', async () => {
    const root = path.join(SYSTEMS_DIR, 'bookworm-sections');
    const run = await planFor(root, new FakeSystem(root));
    goldenPlan('bookworm-sections', run);
    const boot = run.plan.steps.find((s) => s.id === 'boot-config');
    expect(boot?.kind).toBe('write');
    if (boot?.kind !== 'write') return;
    expect(boot.before?.endsWith('\n')).toBe(false);
    // The old [cm5]-only line is disabled, not left to load a second chip on a CM5.
    expect(boot.after).toContain('#ampio-bridge disabled# dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25\n\n# >>> ampio-bridge >>>');
    expect(boot.after).toMatch(/\n\[all\]\ndtparam=spi=on\n/);
    expect(run.plan.notices.some((n) => n.text.includes('outside our block'))).toBe(true);
  });

  it('legacy /boot on bullseye with systemd 247: udev rule instead of .link, ifupdown noticed', async () => {
    const root = path.join(SYSTEMS_DIR, 'legacy-boot');
    const runner = new FakeSystem(root);
    runner.systemdVersion = 247;
    const run = await planFor(root, runner, { board: 'waveshare-rs485-can-hat', interfaces: ['can0'] });
    goldenPlan('legacy-boot', run);
    expect(run.facts.boot.path).toBe('/boot/config.txt');
    expect(ids(run.plan)).toContain('udev-rule');
    expect(ids(run.plan)).not.toContain('link');
    expect(ids(run.plan)).not.toContain('network-manager');
    expect(run.plan.notices.some((n) => n.level === 'warn' && n.text.includes('not verified'))).toBe(true);
  });

  it('go-ampio-server installed by its guide: migrate, retire hand-made files, no reboot for the same overlays', async () => {
    const root = path.join(SYSTEMS_DIR, 'go-manual');
    const runner = new FakeSystem(root);
    runner.active.add('can-server.service');
    runner.links = [
      { name: 'can0', operstate: 'UP', txqlen: 1000, bitrate: 50000, restartMs: 0, parentdev: 'spi0.0' },
      { name: 'can1', operstate: 'DOWN', txqlen: 10, bitrate: null, restartMs: 0, parentdev: 'spi0.1' },
    ];
    const run = await planFor(root, runner);
    goldenPlan('go-manual', run);
    expect(run.answers).toMatchObject({
      listen: ':20001',
      hubPolicy: 'kick',
      maxClients: 8,
      metricsAddr: ':9100',
      interfaces: ['can0'],
      board: 'waveshare-2ch-can-hat',
      migrate: true,
    });
    expect(run.plan.needsReboot).toBe(false);
    expect(ids(run.plan)).toEqual([
      'boot-config',
      'retire-manual-network',
      'retire-manual-udev',
      'network',
      'link',
      'network-manager',
      'networkd-reload',
      'link-can0-down',
      'link-can0-can',
      'link-can0-qlen',
      'link-can0-up',
      'service-user',
      'config',
      'env-file',
      'unit',
      'rcvbuf-sysctl',
      'rcvbuf-sysctl-load',
      'disable-go',
      'daemon-reload',
      'enable',
      'restart',
    ]);
    const config = JSON.parse((run.plan.steps.find((s) => s.id === 'config') as { after: string }).after);
    expect(config['log-level']).toBe('debug');
    expect(run.plan.notices.some((n) => n.text.includes('CAN_SERVER_SERIAL_READ_TIMEOUT'))).toBe(true);
  });

  it('USB serial adapter run through npx: permanent install, by-id path, dialout, DeviceAllow', async () => {
    const root = path.join(SYSTEMS_DIR, 'serial-usb');
    const runner = new FakeSystem(root);
    const run = await planFor(root, runner, { backend: 'serial' }, { runningMain: NPX_MAIN });
    goldenPlan('serial-usb', run);
    expect(run.answers.serial).toBe('/dev/serial/by-id/usb-Ampio_USB-CAN_A1B2C3-if00-port0');
    expect(ids(run.plan)).toEqual(['install-package', 'service-user', 'config', 'env-file', 'unit', 'daemon-reload', 'enable', 'restart']);
    const unit = (run.plan.steps.find((s) => s.id === 'unit') as { after: string }).after;
    expect(unit).toContain(
      'ExecStart=/usr/bin/node /usr/local/lib/node_modules/ampio-bridge/dist/src/cli/main.js serve --config /etc/ampio-bridge/config.json',
    );
    expect(unit).toContain('DeviceAllow=char-ttyUSB rw');
    expect(unit).toContain('SupplementaryGroups=dialout');
    expect(unit).not.toContain('PrivateDevices=yes');
  });

  it('an existing ampio-bridge from an older version: headers updated, own keys kept, no reboot', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    const first = await planFor(t.root, sys, {}, { version: '0.0.9' });
    expect((await applyPlan(first.plan, { fs: first.fs, runner: sys, now: () => new Date('2025-01-01T00:00:00Z'), version: '0.0.9' })).ok).toBe(true);
    const cfgPath = path.join(t.root, PATHS.configFile);
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, `${JSON.stringify({ ...cfg, 'log-level': 'debug' }, null, 2)}\n`);
    rmSync(path.join(t.root, PATHS.rebootMarker)); // the Pi rebooted since (/run is tmpfs)
    sys.calls.length = 0;
    const run = await planFor(t.root, sys, {}, {});
    goldenPlan('ampio-existing', run, t.root);
    expect(run.plan.needsReboot).toBe(false);
    expect(ids(run.plan)).toEqual(['boot-config', 'network', 'link', 'network-manager', 'unit', 'rcvbuf-sysctl', 'daemon-reload', 'restart']);
    expect(ids(run.plan)).not.toContain('config');
    expect(ids(run.plan)).not.toContain('env-file');
  });

  it('refuses the Bookworm stub when /boot/firmware is not there', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    rmSync(path.join(t.root, 'boot/firmware'), { recursive: true });
    const run = await planFor(t.root, new FakeSystem(t.root));
    expect(run.facts.boot.path).toBeNull();
    expect(run.plan.steps).toEqual([]);
    expect(run.plan.notices.find((n) => n.level === 'error')?.text).toMatch(/stub.*DO NOT EDIT/);
    // A blocked plan is not an up-to-date system: it must not say "Nothing to change".
    const shown = renderPlan(run.plan, plain);
    expect(shown).toContain('DO NOT EDIT');
    expect(shown).not.toContain('Nothing to change');
  });

  it('refuses a node under ~/.nvm, naming the flag that fixes it', async () => {
    const root = path.join(SYSTEMS_DIR, 'bookworm-fresh');
    const { loadCatalog } = await import('../../provisioning/catalog.js');
    const { probe } = await import('../../provisioning/probe.js');
    const { NodeFs } = await import('../../provisioning/io/fs.js');
    const { defaultAnswers } = await import('../../provisioning/defaults.js');
    const { planInstall } = await import('../../provisioning/plan.js');
    const { loadTemplates } = await import('../../provisioning/package-files.js');
    const catalog = await loadCatalog();
    const facts = await probe({
      fs: new NodeFs(root),
      runner: new FakeSystem(root),
      root: null,
      nodePath: '/home/pi/.nvm/versions/node/v20.19.0/bin/node',
      runningMain: '/usr/lib/x/main.js',
      env: {},
    });
    const plan = planInstall({
      facts,
      answers: defaultAnswers(facts, catalog),
      env: { version: '0.1.0', nodePath: facts.node.path, live: true },
      catalog,
      templates: loadTemplates(),
    });
    expect(plan.steps).toEqual([]);
    const err = plan.notices.find((n) => n.level === 'error');
    expect(err?.text).toContain('.nvm');
    expect(err?.fix).toContain('--node');
  });

  it('image without systemd-networkd (apt cannot run offline): oneshot ip-link unit, CRLF config.txt kept, spi-bcm2835 left alone', async () => {
    const root = path.join(SYSTEMS_DIR, 'trixie-image');
    const run = await planFor(root, new FakeSystem(root), {}, { imageRoot: true });
    goldenPlan('trixie-image', run, root);
    expect(run.facts.linkManagers.networkd.installed).toBe(false);
    expect(run.facts.hostname).toBe('ampio-pi');
    expect(ids(run.plan)).toEqual([
      'boot-config',
      'link-oneshot',
      'enable-link-oneshot',
      'network-manager',
      'service-user',
      'config',
      'env-file',
      'unit',
      'rcvbuf-sysctl',
      'enable',
    ]);
    expect(run.plan.deferred.map((s) => s.argv.join(' '))).toEqual(['systemctl daemon-reload']);
    const oneshot = run.plan.steps.find((s) => s.id === 'link-oneshot');
    expect(oneshot?.kind === 'write' && oneshot.after).toContain(
      'ExecStart=/sbin/ip link set can0 type can bitrate 50000 restart-ms 100\nExecStart=/sbin/ip link set can0 txqueuelen 100\n',
    );
    const boot = run.plan.steps.find((s) => s.id === 'boot-config');
    if (boot?.kind !== 'write') throw new Error('no boot step');
    // Every line still ends in CRLF; the old guide's line is still there, unchanged.
    expect(boot.after.replace(/\r\n/g, '')).not.toContain('\n');
    expect(boot.after).toContain('\r\ndtoverlay=spi-bcm2835-overlay\r\n');
    expect(run.plan.notices.map((n) => n.text).join('\n')).toMatch(/spi-bcm2835-overlay is not a CAN overlay/);
    expect(run.plan.notices.map((n) => n.text).join('\n')).not.toMatch(/outside our block/);
    expect(run.plan.notices.find((n) => /oneshot/.test(n.text))?.fix).toMatch(/apt-get install systemd-networkd/);
  });

  it('live system without systemd-networkd but with apt: installs it as a shown step first', async () => {
    const root = path.join(SYSTEMS_DIR, 'trixie-image');
    const run = await planFor(root, new FakeSystem(root));
    expect(ids(run.plan).slice(0, 6)).toEqual(['boot-config', 'install-networkd', 'network', 'link', 'network-manager', 'enable-networkd']);
    const install = run.plan.steps.find((s) => s.id === 'install-networkd');
    expect(install?.kind === 'command' && install.argv).toEqual(['apt-get', 'install', '--yes', '--no-install-recommends', 'systemd-networkd']);
  });

  it('live system without systemd-networkd and without apt: the oneshot fallback, no networkd step', async () => {
    const root = path.join(SYSTEMS_DIR, 'lite-no-networkd');
    const run = await planFor(root, new FakeSystem(root));
    goldenPlan('lite-no-networkd', run);
    expect(ids(run.plan)).toContain('link-oneshot');
    expect(ids(run.plan)).not.toContain('enable-networkd');
    expect(ids(run.plan)).not.toContain('network');
  });

  it('run from npx on a system without npm: stops at plan time with the fix, before any change', async () => {
    const root = path.join(SYSTEMS_DIR, 'serial-usb');
    const sys = new FakeSystem(root);
    sys.failOn = /^npm /;
    const run = await planFor(root, sys, {}, { runningMain: NPX_MAIN });
    expect(run.plan.steps).toEqual([]);
    expect(run.plan.notices.find((n) => n.level === 'error')).toMatchObject({
      text: expect.stringMatching(/npm is needed/),
      fix: expect.stringMatching(/apt install npm/),
    });
  });
});
