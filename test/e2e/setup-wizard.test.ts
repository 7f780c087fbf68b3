// The interactive wizard as a person uses it: the built CLI in a real terminal (tmux),
// answered with send-keys, read back with capture-pane, against a temp copy of a fixture
// Pi under --root. systemctl/useradd are stand-in scripts on PATH that only log their
// arguments: the real ones would change this machine. Needs `npm run build` and tmux.

import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTmux } from '../support/tmux.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const server = `ampio-setup-${process.pid}`; // our own tmux server: never touch anyone else's
let dir: string;

const term = createTmux(server, { history: true });
const screen = () => term.screen('w');
const waitFor = (text: string | RegExp, timeoutMs?: number) => term.waitFor('w', text, String(text), timeoutMs);
const keys = (...k: string[]) => term.keys('w', ...k);

beforeAll(() => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  dir = mkdtempSync(path.join(tmpdir(), 'ampio-wizard-'));
  const shims = path.join(dir, 'bin');
  mkdirSync(shims);
  for (const name of ['systemctl', 'useradd', 'usermod', 'ip', 'networkctl', 'npm', 'reboot']) {
    const f = path.join(shims, name);
    writeFileSync(f, `#!/bin/sh\necho "${name} $*" >> "${path.join(dir, 'commands.log')}"\n`);
    chmodSync(f, 0o755);
  }
});

afterAll(async () => {
  await term.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('setup wizard in a real terminal', () => {
  it('asks, shows the plan, applies on "yes", and a re-run finds nothing to change', async () => {
    const root = path.join(dir, 'pi');
    cpSync(path.join(repo, 'test/fixtures/systems/bookworm-fresh'), root, { recursive: true, verbatimSymlinks: true });
    const shell = `PATH=${path.join(dir, 'bin')}:$PATH ${process.execPath} ${bin} setup --root ${root}; echo "EXIT=$?"; sleep 60`;
    await term.start('w', { cols: 200, rows: 50 }, shell);

    await waitFor('How is the Pi connected to the Ampio bus?');
    await keys('Enter'); // CAN HAT (default)
    await waitFor('Which CAN HAT?');
    expect(await screen()).toContain('Waveshare 2-CH CAN HAT');
    await keys('Enter'); // the default board
    await waitFor('Which channels?');
    await keys('Down', 'Enter'); // can0 only
    await waitFor('Bus bitrate in bit/s (the Ampio bus runs at 50 kbit/s)');
    await keys('Enter');
    await waitFor(/TX queue length \(mcp251x keeps one frame in flight/);
    await keys('Enter');
    await waitFor('Bus-off restart in ms');
    await keys('Enter');
    await waitFor('TCP address for cannelloni clients');
    await keys('-l', ':20100');
    await keys('Enter');
    const who = await waitFor('Who may connect?');
    expect(who).toContain('The bus port has no password');
    await keys('Enter'); // local network only (the default: nothing written)
    await waitFor('Limit how fast one client may send to the bus? (192 frames/s, bursts of 48');
    await keys('Enter'); // no (the default)
    await waitFor('Maximum clients per bus');
    await keys('Enter');
    await waitFor('A client that cannot keep up');
    await keys('Enter');
    await waitFor('Also serve socketcand clients (python-can, SavvyCAN, Kayak) on TCP port 29536?');
    await keys('Enter');
    await waitFor('Serve GVRET for SavvyCAN and WireTAP on TCP port 23?');
    await keys('y', 'Enter');
    // One bus (can0 only): cannelloni's bus 1 does not exist, so Home Assistant's default port is free.
    await waitFor("Serve Home Assistant's Ampio integration (the Waveshare 2-CH-CAN-TO-ETH format) on TCP port 20001?");
    await keys('y', 'Enter');
    // cannelloni over UDP: offered, off unless answered yes; then the servers to dial (none).
    await waitFor('Also serve cannelloni over UDP, its default mode');
    await keys('Enter');
    await waitFor('Dial out to a cannelloni TCP server');
    await keys('Enter');
    await waitFor('Dial out to a tcpcan server');
    await keys('Enter');
    // Broadcast reaches the whole LAN: asked after the protocols, and off unless answered yes.
    await waitFor('Announce socketcand on the local network by broadcast');
    await keys('Enter');
    await waitFor('Advertise the bridge on the local network (mDNS)?');
    await keys('Enter');
    await waitFor('Keep a history of every bus frame on this Pi (ampio-bridge capture query --since 1h;');
    await keys('Enter'); // yes (the default)
    await waitFor('Publish the house to an MQTT broker');
    await keys('Enter'); // empty: off (the default)
    await waitFor('Serve the web page on the local network, port 8080');
    await keys('Enter'); // yes (the default)
    await waitFor('Allow changes from the web page');
    await keys('y', 'Enter');
    const plan = await waitFor(/Apply \d+ changes \(a reboot follows\)\?/);
    expect(plan).toContain('systemd-networkd: can0 at 50000 bit/s, restart-ms 100');
    expect(plan).toContain('+# board: waveshare-2ch-can-hat');
    await keys('Enter');
    const done = await waitFor('EXIT=', 30_000);
    expect(done).toContain('EXIT=0');
    expect(done).toContain(`Image at ${root} is ready`);
    expect(done).toContain('ampio-bridge capture query --since 1h');
    expect(done).toMatch(/Home Assistant \(Settings → Devices & services → Add integration → Ampio\) connects with host and port .+:20001/);
    expect(done).toMatch(/Open the web page on a phone or computer on this network: http:\/\/\S+:8080\//);
    const token = /Web write token \(shown this once; only its hash is stored\): (\S+)/.exec(done)?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const config = JSON.parse(readFileSync(path.join(root, 'etc/ampio-bridge/config.json'), 'utf8'));
    expect(config).toMatchObject({
      backend: 'socketcan',
      'can-if': 'can0',
      listen: ':20100',
      'mdns-enable': true,
      'http-listen': ':8080',
      'gvret-listen': ':23',
      'socketcand-listen': ':29536',
      'socketcand-beacon': false,
      'waveshare-listen': ':20001',
      capture: '/var/lib/ampio-bridge/capture.db',
    });
    // The one HTTP server serves /metrics: no second address; the token only as its hash.
    expect(config).not.toHaveProperty('metrics-addr');
    expect(config).not.toHaveProperty('cannelloni-udp');
    expect(config).not.toHaveProperty('cannelloni-connect');
    expect(config['http-token-hash']).toMatch(/^scrypt:[0-9a-f]{32}:[0-9a-f]{64}$/);
    expect(JSON.stringify(config)).not.toContain(token);
    expect(readFileSync(path.join(root, 'etc/systemd/system/ampio-bridge.service'), 'utf8')).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(config).not.toHaveProperty('allow');
    expect(config).not.toHaveProperty('mqtt-url');
    expect(config).not.toHaveProperty('tx-rate');
    expect(readFileSync(path.join(root, 'boot/firmware/config.txt'), 'utf8')).toContain('dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=23');
    expect(lstatSync(path.join(root, 'etc/systemd/system/ampio-bridge.service')).isFile()).toBe(true);
    const all = readFileSync(path.join(dir, 'commands.log'), 'utf8').trim().split('\n');
    // Run from a checkout under /tmp or /home (as CI's clone may be), setup also packs the
    // running tree for the image: that it packs exactly this tree is all that may differ.
    const packs = all.filter((l) => l.startsWith('npm pack '));
    expect(packs.length).toBeLessThanOrEqual(1);
    for (const p of packs) expect(p).toBe(`npm pack --ignore-scripts --pack-destination ${root}/var/lib/ampio-bridge ${repo}`);
    const log = all.filter((l) => !l.startsWith('npm pack '));
    expect(log).toEqual([
      `systemctl --root=${root} enable systemd-networkd.service`,
      `systemctl --root=${root} disable systemd-networkd-wait-online.service`,
      `useradd --root ${root} --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin --comment ampio-bridge daemon ampio-bridge`,
      `systemctl --root=${root} enable ampio-bridge.service`,
    ]);
    await term.tmux('kill-session', '-t', 'w');

    // Same answers again, as flags this time: the stand-in systemctl created no links, so
    // only the commands repeat; every file is already right.
    const again = execFileSync(process.execPath, [bin, 'setup', '--yes', '--dry-run', '--root', root, '--can-if', 'can0', '--listen', ':20100'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
    });
    expect(again).not.toMatch(/^\s+\d+\. .*(config|unit|Boot config|networkd:)/m);
  }, 90_000);
});
