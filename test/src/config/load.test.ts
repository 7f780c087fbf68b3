import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadInput, type LoadResult } from '../../../src/config/load.js';
import { defaultConfigPath } from '../../../src/config/paths.js';
import { ConfigError } from '../../../src/config/errors.js';
import { envNameFor, OPTION_NAMES, OPTIONS } from '../../../src/config/options.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-config-'));
});
afterEach(() => {
  fs.chmodSync(dir, 0o700);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Loads with a user config dir that does not exist unless a test creates it. */
function load(argv: string[], env: Record<string, string | undefined> = {}, extra: Partial<LoadInput> = {}): LoadResult {
  return loadConfig({ argv, env, isRoot: false, userConfigDir: path.join(dir, 'user'), cwd: dir, ...extra });
}

function ok(result: LoadResult) {
  if (!result.ok) throw new Error(`expected ok, got:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result;
}

function failed(result: LoadResult): ConfigError[] {
  if (result.ok) throw new Error('expected errors, load succeeded');
  return result.errors;
}

function writeConfig(content: unknown, name = 'config.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('defaults', () => {
  it('gives every option its table default, frozen, with no file and no warnings', () => {
    const r = ok(load([]));
    for (const name of OPTION_NAMES) expect(r.config[name]).toEqual(OPTIONS[name].default);
    expect(r.config.configFile).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.help).toBe(false);
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.canIf)).toBe(true);
    expect(Object.isFrozen(r.config.listen)).toBe(true);
    expect(() => (r.config.canIf as string[]).push('can9')).toThrow();
    // The shared table default was copied, not frozen in place.
    expect(Object.isFrozen(OPTIONS.canIf.default)).toBe(false);
    expect(Object.values(r.sources).every((s) => s.kind === 'default')).toBe(true);
  });

  it('looks in /etc/ampio-bridge as root and in the XDG config dir otherwise', () => {
    expect(defaultConfigPath(true, {})).toBe('/etc/ampio-bridge/config.json');
    expect(defaultConfigPath(false, { XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/ampio-bridge/config.json');
    expect(defaultConfigPath(false, { HOME: '/home/u' })).toBe('/home/u/.config/ampio-bridge/config.json');
    expect(defaultConfigPath(false, {}, '/given')).toBe('/given/config.json');
  });

  it('does not create the default config directory when there is no file', () => {
    ok(load([]));
    expect(fs.existsSync(path.join(dir, 'user'))).toBe(false);
  });
});

describe('precedence: flag > env > config file > default', () => {
  it('applies each layer where the higher ones are silent', () => {
    const file = writeConfig({ 'hub-buffer': 100, 'batch-size': 10, listen: ':1000', 'log-level': 'debug' });
    const r = ok(
      load(['--config', file, '--hub-buffer', '300'], {
        [envNameFor('hub-buffer')]: '200',
        [envNameFor('batch-size')]: '20',
      }),
    );
    expect(r.config.hubBuffer).toBe(300);
    expect(r.config.batchSize).toBe(20);
    expect(r.config.listen).toEqual({ host: '', port: 1000 });
    expect(r.config.logLevel).toBe('debug');
    expect(r.config.hubPolicy).toBe('drop');
    expect(r.config.configFile).toBe(file);
    expect(r.sources.hubBuffer).toEqual({ kind: 'flag', name: '--hub-buffer' });
    expect(r.sources.batchSize).toEqual({ kind: 'env', name: 'AMPIO_BRIDGE_BATCH_SIZE' });
    expect(r.sources.listen).toEqual({ kind: 'file', path: file, key: 'listen' });
    expect(r.sources.hubPolicy).toEqual({ kind: 'default' });
  });

  it('holds without a config file too', () => {
    const r = ok(load(['--hub-policy', 'kick'], { AMPIO_BRIDGE_HUB_POLICY: 'drop', AMPIO_BRIDGE_MAX_CLIENTS: '7' }));
    expect(r.config.hubPolicy).toBe('kick');
    expect(r.config.maxClients).toBe(7);
    expect(r.config.configFile).toBeNull();
  });

  it('reads the default location (XDG config dir) when no --config is given', () => {
    const xdg = path.join(dir, 'xdg');
    fs.mkdirSync(path.join(xdg, 'ampio-bridge'), { recursive: true });
    fs.writeFileSync(path.join(xdg, 'ampio-bridge', 'config.json'), JSON.stringify({ 'max-clients': 3 }));
    const r = ok(loadConfig({ argv: [], env: { XDG_CONFIG_HOME: xdg }, isRoot: false }));
    expect(r.config.maxClients).toBe(3);
    expect(r.config.configFile).toBe(path.join(xdg, 'ampio-bridge', 'config.json'));
  });

  it('takes the file from AMPIO_BRIDGE_CONFIG, and --config over it; relative paths from cwd', () => {
    writeConfig({ 'max-clients': 1 }, 'a.json');
    writeConfig({ 'max-clients': 2 }, 'b.json');
    expect(ok(load([], { AMPIO_BRIDGE_CONFIG: 'a.json' })).config.maxClients).toBe(1);
    expect(ok(load(['--config=b.json'], { AMPIO_BRIDGE_CONFIG: 'a.json' })).config.maxClients).toBe(2);
  });

  it('turns flag-style values in the file (numbers, bools, lists, null) into the same parsed values', () => {
    const file = writeConfig({
      'mdns-enable': true,
      'can-if': ['can0', 'can1'],
      'flush-interval': 0,
      'tx-max-age': '1m30s',
      'metrics-addr': null,
      baud: '230400',
    });
    const r = ok(load(['--config', file]));
    expect(r.config.mdnsEnable).toBe(true);
    expect(r.config.canIf).toEqual(['can0', 'can1']);
    expect(r.config.flushInterval).toBe(0);
    expect(r.config.txMaxAge).toBe(90_000);
    expect(r.config.metricsAddr).toBeNull();
    expect(r.sources.metricsAddr).toEqual({ kind: 'default' });
    expect(r.config.baud).toBe(230400);
  });

  it('reads a file with another name or no extension through --config', () => {
    const file = writeConfig({ echo: 'none' }, 'bridge-settings');
    expect(ok(load(['--config', file])).config.echo).toBe('none');
  });

  it('never writes the config file (ProtectSystem=strict makes /etc read-only)', () => {
    const text = '{\n  "hub-buffer": 64\n}\n';
    const file = writeConfig(text);
    const before = fs.statSync(file).mtimeMs;
    // A read-only directory, as under ProtectSystem=strict (when tests run as root this
    // does not stop writes, so the content/mtime/listing checks below are what prove it).
    fs.chmodSync(dir, 0o555);
    const r = ok(load(['--config', file]));
    expect(r.config.hubBuffer).toBe(64);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.statSync(file).mtimeMs).toBe(before);
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
  });
});

describe('config file problems', () => {
  it('a --config path that does not exist is an error; the default location may be absent', () => {
    const errors = failed(load(['--config', path.join(dir, 'nope.json')]));
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('CONFIG_FILE_MISSING');
    expect(errors[0].message).toContain(path.join(dir, 'nope.json'));
  });

  it('rejects a file that is not a JSON object, naming the file', () => {
    for (const content of ['{ "listen": ', '[1,2]', '"text"', 'null']) {
      const file = writeConfig(content);
      const errors = failed(load(['--config', file]));
      expect(errors.map((e) => e.code)).toEqual(['CONFIG_FILE_INVALID']);
      expect(errors[0].message).toContain(file);
    }
  });

  it('rejects a directory given as --config', () => {
    const errors = failed(load(['--config', dir]));
    expect(errors[0].code).toBe('CONFIG_FILE_UNREADABLE');
    expect(errors[0].hint).toContain('config.json');
  });

  it('warns about unknown keys with the closest valid one, without failing', () => {
    const file = writeConfig({ 'hub-bufer': 5, listen: ':20000' });
    const r = ok(load(['--config', file]));
    expect(r.config.hubBuffer).toBe(512);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('"hub-bufer"');
    expect(r.warnings[0]).toContain('did you mean "hub-buffer"?');
  });

  it('names the file and key of a bad value, and refuses JSON types that make no sense', () => {
    const file = writeConfig({ 'hub-buffer': 'lots', listen: ['a'], echo: { mode: 'none' } });
    const errors = failed(load(['--config', file]));
    expect(errors.map((e) => e.flag).sort()).toEqual(['--echo', '--hub-buffer', '--listen']);
    const hub = errors.find((e) => e.flag === '--hub-buffer') as ConfigError;
    expect(hub.message).toContain(`${file}, key "hub-buffer"`);
    expect(hub.message).toContain('AMPIO_BRIDGE_HUB_BUFFER');
    expect(hub.source).toEqual({ kind: 'file', path: file, key: 'hub-buffer' });
    expect(errors.find((e) => e.flag === '--listen')?.message).toContain('a list is not allowed here');
  });
});

describe('environment and CAN_SERVER_* aliases', () => {
  it('maps the go-ampio-server names, with ONE warning listing each alias and its new name', () => {
    const r = ok(
      load([], {
        CAN_SERVER_IF: 'can1',
        CAN_SERVER_METRICS: '127.0.0.1:9100',
        CAN_SERVER_HUB_BUFFER: '1024',
        CAN_SERVER_MDNS_ENABLE: 'yes',
        CAN_SERVER_LOG_METRICS_INTERVAL: '5s',
      }),
    );
    expect(r.config.canIf).toEqual(['can1']);
    expect(r.config.metricsAddr).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(r.config.hubBuffer).toBe(1024);
    expect(r.config.mdnsEnable).toBe(true);
    expect(r.config.logMetricsInterval).toBe(5000);
    expect(r.sources.canIf).toEqual({ kind: 'alias', name: 'CAN_SERVER_IF', replaces: 'AMPIO_BRIDGE_CAN_IF' });
    expect(r.warnings).toHaveLength(1);
    for (const pair of [
      'CAN_SERVER_IF → AMPIO_BRIDGE_CAN_IF',
      'CAN_SERVER_METRICS → AMPIO_BRIDGE_METRICS_ADDR',
      'CAN_SERVER_HUB_BUFFER → AMPIO_BRIDGE_HUB_BUFFER',
      'CAN_SERVER_MDNS_ENABLE → AMPIO_BRIDGE_MDNS_ENABLE',
      'CAN_SERVER_LOG_METRICS_INTERVAL → AMPIO_BRIDGE_LOG_METRICS_INTERVAL',
    ]) {
      expect(r.warnings[0]).toContain(pair);
    }
  });

  it('applies an alias only when the new name is unset, and flags still win over both', () => {
    const r = ok(load(['--baud', '57600'], { CAN_SERVER_BAUD: '230400', AMPIO_BRIDGE_BAUD: '9600', CAN_SERVER_LISTEN: ':3000', AMPIO_BRIDGE_LISTEN: ':4000' }));
    expect(r.config.baud).toBe(57600);
    expect(r.config.listen.port).toBe(4000);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('CAN_SERVER_BAUD (AMPIO_BRIDGE_BAUD is set)');
  });

  it('accepts CAN_SERVER_SERIAL_READ_TIMEOUT but ignores it, saying why', () => {
    const r = ok(load([], { CAN_SERVER_SERIAL_READ_TIMEOUT: '50ms' }));
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/CAN_SERVER_SERIAL_READ_TIMEOUT is ignored: serialport .* no read timeout/);
  });

  it('reports a bad alias value under the alias name', () => {
    const errors = failed(load([], { CAN_SERVER_HUB_BUFFER: 'big' }));
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('CAN_SERVER_HUB_BUFFER');
    expect(errors[0].env).toBe('AMPIO_BRIDGE_HUB_BUFFER');
  });

  it('treats an empty variable as unset, except where empty means something (metrics-addr: off)', () => {
    const file = writeConfig({ 'metrics-addr': '127.0.0.1:9100', 'hub-buffer': 64 });
    const r = ok(load(['--config', file], { AMPIO_BRIDGE_METRICS_ADDR: '', AMPIO_BRIDGE_HUB_BUFFER: '' }));
    expect(r.config.metricsAddr).toBeNull();
    expect(r.config.hubBuffer).toBe(64);
    const go = ok(load([], { CAN_SERVER_METRICS: '' }));
    expect(go.config.metricsAddr).toBeNull();
    expect(go.sources.metricsAddr.kind).toBe('alias');
  });

  it('warns about unknown AMPIO_BRIDGE_* and CAN_SERVER_* variables', () => {
    const r = ok(load([], { AMPIO_BRIDGE_HUB_BUFER: '5', CAN_SERVER_FOO: 'x', PATH: '/bin' }));
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings.join('\n')).toContain('AMPIO_BRIDGE_HUB_BUFER is not an ampio-bridge setting and is ignored (did you mean AMPIO_BRIDGE_HUB_BUFFER?)');
    expect(r.warnings.join('\n')).toContain('CAN_SERVER_FOO');
  });

  it('an invalid value that is overridden is a warning, not an error', () => {
    const r = ok(load(['--hub-buffer', '5'], { AMPIO_BRIDGE_HUB_BUFFER: 'x' }));
    expect(r.config.hubBuffer).toBe(5);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('AMPIO_BRIDGE_HUB_BUFFER');
    expect(r.warnings[0]).toContain('overridden by the command line');
  });
});

describe('errors: every problem at once', () => {
  it('lists problems from flags, env and file together, each naming flag, env var, value and expected form', () => {
    const file = writeConfig({ 'batch-size': 0 });
    const errors = failed(load(['--config', file, '--hub-buffer', 'x', '--listen', 'nope', '--bogus'], { AMPIO_BRIDGE_BAUD: 'fast' }));
    expect(errors.map((e) => e.flag).sort()).toEqual(['--batch-size', '--baud', '--bogus', '--hub-buffer', '--listen']);
    for (const e of errors.filter((x) => x.code === 'CONFIG_INVALID_VALUE')) {
      const spec = Object.values(OPTIONS).find((o) => `--${o.flag}` === e.flag);
      expect(spec).toBeDefined();
      expect(e.env).toBe(envNameFor(spec!.flag));
      expect(e.expected).toBe(spec!.expected);
      expect(e.message).toContain(e.flag as string);
      expect(e.message).toContain(e.env as string);
      expect(e.message).toContain(spec!.expected);
      expect(e.hint).toMatch(/default/);
      expect(e).toBeInstanceOf(ConfigError);
    }
    const hub = errors.find((e) => e.flag === '--hub-buffer') as ConfigError;
    expect(hub.value).toBe('x');
    expect(hub.message).toContain('"x" is not a whole number');
    expect(errors.find((e) => e.flag === '--baud')?.message).toContain('from env AMPIO_BRIDGE_BAUD');
  });

  it('reports a missing value without swallowing the next flag', () => {
    const errors = failed(load(['--listen', '--hub-buffer', '5']));
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('CONFIG_MISSING_VALUE');
    expect(errors[0].message).toContain('--listen needs a value');
    expect(failed(load(['--serial']))[0].code).toBe('CONFIG_MISSING_VALUE');
  });

  it('keeps a negative number as a value (and rejects it by range)', () => {
    const errors = failed(load(['--max-clients', '-1']));
    expect(errors[0].code).toBe('CONFIG_INVALID_VALUE');
    expect(errors[0].message).toContain('outside 0..100000');
  });

  it('rejects stray words', () => {
    const errors = failed(load(['virtual']));
    expect(errors[0].code).toBe('CONFIG_UNEXPECTED_ARGUMENT');
    expect(errors[0].message).toContain('"virtual"');
  });
});

describe('unknown flags', () => {
  const cases: Array<[string[], string]> = [
    [['--hub-bufer', '5'], 'unknown flag --hub-bufer (did you mean --hub-buffer?)'],
    [['--hub'], 'did you mean --hub-buffer?'],
    [['--lsten=:1'], 'did you mean --listen?'],
    [['--metrics', ':9100'], 'did you mean --metrics-addr?'],
    [['-listen', ':20000'], 'unknown flag -listen (flags take two dashes) (did you mean --listen?)'],
    [['--no-listen'], '(--listen is not a true/false flag, so it has no --no- form)'],
    [['-x'], 'unknown flag -x'],
  ];
  for (const [argv, text] of cases) {
    it(`${argv.join(' ')} → ${text}`, () => {
      const errors = failed(load(argv));
      expect(errors).toHaveLength(1);
      expect(errors[0].code).toBe('CONFIG_UNKNOWN_FLAG');
      expect(errors[0].message).toContain(text);
    });
  }

  it('always names a closest valid flag', () => {
    expect(failed(load(['--bogus']))[0].message).toMatch(/unknown flag --bogus \(did you mean --[a-z-]+\?\)/);
  });
});

describe('bool flags', () => {
  it.each([
    [['--mdns-enable'], {}, true],
    [['--mdns-enable=true'], {}, true],
    [['--mdns-enable=yes'], {}, true],
    [['--mdns-enable=false'], { AMPIO_BRIDGE_MDNS_ENABLE: 'true' }, false],
    [['--no-mdns-enable'], { AMPIO_BRIDGE_MDNS_ENABLE: '1' }, false],
    [['--mdns-enable=0'], {}, false],
    [[], { AMPIO_BRIDGE_MDNS_ENABLE: 'on' }, true],
    [['--no-forward-errors'], {}, false],
  ] as Array<[string[], Record<string, string>, boolean]>)('%j with env %j', (argv, env, expected) => {
    const r = ok(load(argv, env));
    const value = argv.some((a) => a.includes('forward-errors')) ? r.config.forwardErrors : r.config.mdnsEnable;
    expect(value).toBe(expected);
  });

  it('rejects values that are not true/false, and a value after a space', () => {
    expect(failed(load(['--mdns-enable=maybe']))[0].message).toContain('"maybe" is not true/false');
    const spaced = failed(load(['--mdns-enable', 'false']));
    expect(spaced).toHaveLength(1);
    expect(spaced[0].message).toContain('write --mdns-enable=false');
    expect(failed(load(['--no-mdns-enable=true']))[0].message).toContain('takes no value');
  });
});

describe('durations', () => {
  it.each([
    ['--flush-interval', '0', 'flushInterval', 0],
    ['--flush-interval', '500us', 'flushInterval', 0.5],
    ['--flush-interval', '1s', 'flushInterval', 1000],
    ['--tx-max-age', '1m30s', 'txMaxAge', 90_000],
    ['--handshake-timeout', '250ms', 'handshakeTimeout', 250],
    ['--log-metrics-interval', '1h', 'logMetricsInterval', 3_600_000],
  ] as const)('%s %s', (flag, value, name, expected) => {
    expect(ok(load([flag, value])).config[name]).toBe(expected);
  });

  it.each([
    ['--flush-interval', '2s', 'must be at most 1s'],
    ['--handshake-timeout', '0', 'must be more than 0'],
    ['--tx-max-age', '5', 'is not a duration'],
    ['--tx-max-age', '5 s', 'is not a duration'],
  ])('%s %s is refused', (flag, value, reason) => {
    const errors = failed(load([flag, value]));
    expect(errors[0].message).toContain(reason);
    expect(errors[0].message).toContain('expected a duration');
  });
});

describe('listen addresses', () => {
  it.each([
    [':20000', { host: '', port: 20000 }],
    ['20001', { host: '', port: 20001 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:20002', { host: '::1', port: 20002 }],
    ['[::]:20003', { host: '::', port: 20003 }],
    ['localhost:20004', { host: 'localhost', port: 20004 }],
  ])('%s', (text, expected) => {
    expect(ok(load(['--listen', text])).config.listen).toEqual(expected);
  });

  it.each([
    ['::1:20000', 'brackets'],
    ['host:65536', 'outside 0..65535'],
    ['host:', 'no valid port'],
    ['', 'an address is required'],
  ])('%j is refused', (text, reason) => {
    const errors = failed(load([`--listen=${text}`]));
    expect(errors[0].message).toContain(reason);
  });

  it('metrics-addr: empty is off, IPv6 allowed', () => {
    expect(ok(load(['--metrics-addr='])).config.metricsAddr).toBeNull();
    expect(ok(load(['--metrics-addr', '[::1]:9100'])).config.metricsAddr).toEqual({ host: '::1', port: 9100 });
  });
});

describe('lists', () => {
  it('accepts comma lists and repeated flags', () => {
    expect(ok(load(['--can-if', 'can0,can1'])).config.canIf).toEqual(['can0', 'can1']);
    expect(ok(load(['--can-if', 'can0', '--can-if', 'can1'])).config.canIf).toEqual(['can0', 'can1']);
    expect(failed(load(['--can-if', 'can0,can0']))[0].message).toContain('listed twice');
  });
});

describe('cross-field checks', () => {
  it('serial drives one bus', () => {
    const errors = failed(load(['--backend', 'serial', '--can-if', 'can0,can1']));
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('CONFIG_CONFLICT');
    expect(errors[0].flag).toBe('--can-if');
    expect(errors[0].message).toContain('--backend serial');
    expect(ok(load(['--backend', 'socketcan', '--can-if', 'can0,can1'])).config.canIf).toHaveLength(2);
  });

  it('two buses need a second port', () => {
    const errors = failed(load(['--can-if', 'can0,can1', '--listen', ':65535']));
    expect(errors.map((e) => e.flag)).toEqual(['--listen']);
    expect(errors[0].message).toContain('at most 65534');
    ok(load(['--can-if', 'can0,can1', '--listen', ':65534']));
    ok(load(['--can-if', 'can0,can1', '--listen', '127.0.0.1:0']));
  });

  it('metrics must not take a cannelloni port', () => {
    expect(failed(load(['--metrics-addr', ':20000']))[0].flag).toBe('--metrics-addr');
    expect(failed(load(['--metrics-addr', '127.0.0.1:20000']))[0].code).toBe('CONFIG_CONFLICT');
    expect(failed(load(['--can-if', 'can0,can1', '--metrics-addr', '127.0.0.1:20001']))[0].message).toContain('can1');
    ok(load(['--metrics-addr', '127.0.0.1:9100']));
    ok(load(['--listen', '127.0.0.1:20000', '--metrics-addr', '127.0.0.2:20000']));
    ok(load(['--listen', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0']));
  });

  it('--tcpcan-listen: off by default, env and flag, and never on a cannelloni or metrics port', () => {
    expect(ok(load([])).config.tcpcanListen).toBeNull();
    expect(ok(load(['--tcpcan-listen', ':20010'])).config.tcpcanListen).toEqual({ host: '', port: 20010 });
    expect(ok(load([], { AMPIO_BRIDGE_TCPCAN_LISTEN: '127.0.0.1:20010' })).config.tcpcanListen).toEqual({ host: '127.0.0.1', port: 20010 });
    expect(ok(load(['--tcpcan-listen', ''])).config.tcpcanListen).toBeNull();
    expect(failed(load(['--tcpcan-listen', ':20000']))[0].flag).toBe('--tcpcan-listen');
    // two buses: tcpcan's second port must not be cannelloni's first (20000 + 1 = 20001)
    expect(failed(load(['--can-if', 'can0,can1', '--listen', ':20001', '--tcpcan-listen', ':20000']))[0].code).toBe('CONFIG_CONFLICT');
    ok(load(['--can-if', 'can0,can1', '--listen', ':20000', '--tcpcan-listen', ':20010']));
    expect(failed(load(['--tcpcan-listen', ':20010', '--metrics-addr', '127.0.0.1:20010']))[0].flag).toBe('--metrics-addr');
  });

  it('conflicts are listed together with value errors', () => {
    const errors = failed(load(['--backend', 'serial', '--can-if', 'can0,can1', '--hub-buffer', '0']));
    expect(errors.map((e) => e.code).sort()).toEqual(['CONFIG_CONFLICT', 'CONFIG_INVALID_VALUE']);
  });
});

describe('help', () => {
  it('-h / --help win over every other problem', () => {
    for (const argv of [['-h'], ['--help'], ['--bogus', '--help'], ['--hub-buffer', 'x', '-h']]) {
      const r = ok(load(argv, { AMPIO_BRIDGE_BAUD: 'fast' }));
      expect(r.help).toBe(true);
    }
  });
});
