// setup's flags that are serve settings come from the options table: these tests fail when
// one drifts (a value one command takes and the other refuses, other words, other choices,
// other help), and pin what setup makes of the values it accepts.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIRRORED_FLAGS, parseSetupFlags, SETUP } from '../../../../src/cli/commands/setup-flags.js';
import { loadConfig } from '../../../../src/config/load.js';
import { OPTIONS, type OptionSpec, specByFlag } from '../../../../src/config/options.js';
import { HARDWARE_DEFAULTS } from '../../../../provisioning/defaults.js';
import { captureCli } from '../../../support/cli-context.js';

/** Values worth trying per mirrored flag: valid, out of range, malformed, case, empty. */
const SAMPLES: Record<string, string[]> = {
  backend: ['socketcan', 'serial', 'SERIAL', 'can', ''],
  'can-if': ['can0', 'can0,can1', ' can0 , can1 ', 'can0,can0', 'bad name!', 'averyveryverylongname', ''],
  'can-rcvbuf': ['8M', '16M', '512K', '1048576', '0', '4095', '300M', '8 MB', 'x', ''],
  bitrate: ['50000', '125000', '4999', '8000001', 'abc', '-1', '50k', ''],
  listen: [':20000', '127.0.0.1:20100', '[::1]:20000', '20000', 'host', '::1:5', ':70000', ''],
  'max-clients': ['0', '10', '-1', 'x', '100001'],
  'hub-policy': ['drop', 'kick', 'KICK', 'block', ''],
  'mdns-enable': ['true', 'false', 'yes', 'off', 'maybe'],
  'metrics-addr': ['127.0.0.1:9100', '', 'off', '9100', ':x'],
  'http-listen': [':8080', '127.0.0.1:8080', '', 'off', '8080', ':x'],
  'gvret-listen': [':23', '', 'off', '23', 'x:y'],
  'socketcand-listen': [':29536', '', 'off', '29536', '[::]:1'],
  'socketcand-beacon': ['true', 'false', 'on', 'maybe'],
  'waveshare-listen': [':20001', '', 'off', '20001', '[::1]:20002', ':65536'],
  capture: ['/var/lib/ampio-bridge/capture.db', '', './c.db', 'c.db'],
  'mqtt-url': ['mqtt://u:p@192.168.1.10:1883', 'mqtts://broker:8883', '', 'off', 'http://x', 'mqtt://h/path', 'broker'],
  allow: ['local', 'loopback', 'any', '10.0.0.0/8', 'local,100.64.0.0/10', 'nonsense', '300.1.1.1/8'],
  'tx-rate': ['0', '100', '100/10', 'x', '-5', '100/'],
  serial: ['/dev/ttyUSB0', '/dev/serial/by-id/usb-x', 'ttyUSB0'],
};

const NO_CONFIG_DIR = path.join(os.tmpdir(), 'ampio-bridge-no-such-config-dir');

/** Why serve refuses `--flag=value` on its command line (null: serve takes it). */
function serveReason(flag: string, value: string): string | null {
  const r = loadConfig({ argv: [`--${flag}=${value}`], env: {}, isRoot: false, userConfigDir: NO_CONFIG_DIR });
  if (r.ok) return null;
  const own = r.errors.filter((e) => e.code === 'CONFIG_INVALID_VALUE' && e.flag === `--${flag}`);
  expect(own, `serve --${flag}=${value}: ${r.errors.map((e) => e.message).join('; ')}`).toHaveLength(1);
  return /on the command line: (.*); expected /.exec(own[0].message)?.[1] ?? own[0].message;
}

/** Why setup refuses it (null: setup takes it). */
function setupReason(flag: string, value: string): string | null {
  const cli = captureCli();
  const r = parseSetupFlags([`--${flag}=${value}`], cli.ctx);
  if (!('exit' in r)) return null;
  expect(r.exit).toBe(2);
  const line = cli.stderr();
  return new RegExp(`^ampio-bridge setup: --${flag}: (.*); expected `).exec(line)?.[1] ?? line;
}

describe('setup flags that are serve settings', () => {
  it('refuse exactly what serve refuses, for the same reason', () => {
    for (const [flag, values] of Object.entries(SAMPLES)) {
      for (const value of values) expect(setupReason(flag, value), `--${flag}=${JSON.stringify(value)}`).toBe(serveReason(flag, value));
    }
  });

  it('backend: setup refuses only virtual beyond serve, and says what it installs instead', () => {
    expect(serveReason('backend', 'virtual')).toBeNull();
    expect(setupReason('backend', 'virtual')).toMatch(/"virtual" is for trying the bridge without hardware: setup installs socketcan \(a CAN HAT\) or serial/);
  });

  it('have the serve entry’s name, help, accepted form and choices', () => {
    for (const [flag, m] of Object.entries(MIRRORED_FLAGS)) {
      const entry = specByFlag(flag);
      expect(entry, `--${flag} is a serve option`).toBeDefined();
      const spec = entry![1] as OptionSpec<unknown>;
      expect(m.flag.help.startsWith(spec.help), `--${flag} help`).toBe(true);
      expect(m.flag.type).toBe(spec.kind === 'bool' ? 'boolean' : 'string');
      if (flag === 'backend') {
        expect(m.flag.choices).toEqual(OPTIONS.backend.choices?.filter((c) => c !== 'virtual'));
      } else {
        expect(m.flag.expected).toBe(spec.expected);
        expect(m.flag.choices).toEqual(spec.kind === 'bool' ? undefined : spec.choices);
      }
      expect(SETUP.flags[flag]).toBe(m.flag);
    }
  });

  it('setup --help shows each serve entry’s help and its choices', () => {
    const cli = captureCli();
    expect(parseSetupFlags(['--help'], cli.ctx)).toEqual({ exit: 0 });
    const help = cli.stdout().replace(/\s+/g, ' ');
    for (const flag of Object.keys(MIRRORED_FLAGS)) expect(help).toContain((specByFlag(flag)![1] as OptionSpec<unknown>).help.replace(/\s+/g, ' '));
    expect(help).toContain('--hub-policy drop|kick');
    expect(help).toContain('--backend socketcan|serial ');
    expect(help).toContain('--mdns-enable, --no-mdns-enable');
  });

  it('the defaults setup’s help names are the ones setup uses', () => {
    const help = Object.values(MIRRORED_FLAGS)
      .map((m) => m.flag.help)
      .join('\n');
    for (const v of [HARDWARE_DEFAULTS.bitrate, HARDWARE_DEFAULTS.listen, HARDWARE_DEFAULTS.metricsAddr, ':29536', HARDWARE_DEFAULTS.capture]) {
      expect(help).toContain(String(v));
    }
  });
});

describe('setup flags → answers', () => {
  const answersOf = (args: string[]) => {
    const cli = captureCli();
    const r = parseSetupFlags(args, cli.ctx);
    if ('exit' in r) throw new Error(cli.stderr());
    return r.answers;
  };

  it('keeps parsed values, and text answers in the table’s text form', () => {
    expect(answersOf(['--can-if', ' can0 , can1 ', '--bitrate', '125000', '--hub-policy', 'KICK', '--max-clients', '3'])).toEqual({
      interfaces: ['can0', 'can1'],
      bitrate: 125000,
      hubPolicy: 'kick',
      maxClients: 3,
    });
    expect(answersOf(['--can-rcvbuf', '16M'])).toEqual({ canRcvbuf: 16 * 1024 * 1024 });
    expect(
      answersOf(['--metrics-addr', 'off', '--socketcand-listen', '', '--gvret-listen', ':23', '--waveshare-listen', ':20002', '--listen', ' [::1]:20000 ']),
    ).toEqual({
      metricsAddr: '',
      listeners: { socketcandListen: '', gvretListen: ':23', waveshareListen: ':20002' },
      listen: '[::1]:20000',
    });
    expect(answersOf(['--allow', 'loopback', '--tx-rate', '100/10', '--capture', '', '--serial', '/dev/ttyUSB1', '--backend', 'Serial'])).toEqual({
      allow: 'loopback',
      txRate: '100/10',
      capture: '',
      serial: '/dev/ttyUSB1',
      backend: 'serial',
    });
  });

  it('true/false flags: bare, =false and --no-, as serve reads them', () => {
    expect(answersOf(['--mdns-enable'])).toEqual({ mdns: true });
    expect(answersOf(['--mdns-enable=false'])).toEqual({ mdns: false });
    expect(answersOf(['--no-mdns-enable'])).toEqual({ mdns: false });
    expect(answersOf(['--no-migrate'])).toEqual({ migrate: false });
    const cli = captureCli();
    expect(parseSetupFlags(['--no-mdns-enable=true'], cli.ctx)).toEqual({ exit: 2 });
    expect(cli.stderr()).toBe('ampio-bridge setup: --no-mdns-enable takes no value; write --mdns-enable=true instead\n');
  });
});

describe("setup's own flags", () => {
  const refusal = (args: string[]) => {
    const cli = captureCli();
    expect(parseSetupFlags(args, cli.ctx)).toEqual({ exit: 2 });
    return cli.stderr();
  };

  it('reads hardware answers and behaviour', () => {
    const cli = captureCli();
    const f = parseSetupFlags(
      [
        '--hat',
        'pican2',
        '--oscillator',
        '16000000',
        '--interrupt',
        '25',
        '--txqueuelen',
        '100',
        '--restart-ms',
        '0',
        '-y',
        '--dry-run',
        '--reboot',
        'never',
        '--root',
        '/mnt/img',
        '--node',
        '/usr/bin/node',
        '--no-color',
      ],
      cli.ctx,
    );
    expect(f).toEqual({
      args: [
        '--hat',
        'pican2',
        '--oscillator',
        '16000000',
        '--interrupt',
        '25',
        '--txqueuelen',
        '100',
        '--restart-ms',
        '0',
        '-y',
        '--dry-run',
        '--reboot',
        'never',
        '--root',
        '/mnt/img',
        '--node',
        '/usr/bin/node',
        '--no-color',
      ],
      mode: 'install',
      yes: true,
      dryRun: true,
      root: '/mnt/img',
      reboot: 'never',
      node: '/usr/bin/node',
      color: false,
      answers: { board: 'pican2', oscillator: 16_000_000, interrupt: 25, txqueuelen: 100, restartMs: 0 },
    });
  });

  it('refuses bad values, every one at once, in the shared words', () => {
    expect(refusal(['--oscillator', '16MHz', '--reboot', 'later', '--root', 'mnt', '--node', 'node'])).toBe(
      [
        'ampio-bridge setup: --oscillator: "16MHz" is not a whole number; expected a frequency in Hz',
        'ampio-bridge setup: --node: "node" is not an absolute path (systemd needs one)',
        'ampio-bridge setup: --reboot: "later" is not one of ask, never, now; expected ask, never or now',
        'ampio-bridge setup: --root: "mnt" is not an absolute path (the image is mounted somewhere)',
        '',
      ].join('\n'),
    );
    expect(refusal(['--root', '/'])).toBe('ampio-bridge setup: --root: / is the running system: leave --root out instead\n');
    expect(refusal(['--rollback', '--uninstall'])).toBe('ampio-bridge setup: --rollback and --uninstall cannot be combined\n');
    expect(refusal(['--yes=no'])).toBe('ampio-bridge setup: --yes takes no value\n');
  });

  it('an unknown flag is named alone: the word after it is its value', () => {
    expect(refusal(['--bitrat', '50000', '--bitrate', 'x'])).toBe('ampio-bridge setup: unknown flag --bitrat (did you mean --bitrate?)\n');
  });
});
