// One clash rule for every listener: the pairs come from the options table (every entry that
// declares `listener`), so a listener added later is covered without touching this file.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configuredListeners, listenerClashes } from '../../../src/config/listeners.js';
import { loadConfig, type LoadResult } from '../../../src/config/load.js';
import { OPTION_NAMES, OPTIONS, type OptionName, type OptionSpec } from '../../../src/config/options.js';

const load = (argv: string[]): LoadResult =>
  loadConfig({ argv, env: {}, isRoot: false, userConfigDir: path.join(os.tmpdir(), 'ampio-listeners-none'), cwd: os.tmpdir() });

const spec = (n: OptionName) => OPTIONS[n] as OptionSpec<unknown>;
const tcpListeners = OPTION_NAMES.filter((n) => spec(n).listener && spec(n).kind === 'address' && (spec(n).listener?.transport ?? 'tcp') === 'tcp');
const udpListeners = OPTION_NAMES.filter((n) => spec(n).listener && spec(n).kind === 'address' && spec(n).listener?.transport === 'udp');

describe('listeners: one clash rule', () => {
  it('covers every protocol, metrics and the control socket', () => {
    const names = OPTION_NAMES.filter((n) => spec(n).listener);
    expect(names).toEqual(
      expect.arrayContaining(['listen', 'tcpcanListen', 'gvretListen', 'socketcandListen', 'waveshareListen', 'metricsAddr', 'httpListen', 'controlSocket']),
    );
  });

  // Ports far from every default, one per pair, so only the pair under test can clash.
  // --metrics-addr is the older name of --http-listen: one server, so any two different
  // addresses are refused and the same one is allowed (test/src/web/web-server.test.ts).
  const oneServer = (a: OptionName, b: OptionName): boolean => [a, b].includes('metricsAddr') && [a, b].includes('httpListen');
  const pairs = tcpListeners.flatMap((a, i) => tcpListeners.slice(i + 1).map((b) => [a, b] as const)).filter(([a, b]) => !oneServer(a, b));
  it.each(pairs.map(([a, b], k) => [a, b, 30000 + 10 * k]))('%s and %s on one port are refused, naming both', (a, b, port) => {
    const listen = a === 'listen' || b === 'listen' ? [] : ['--listen', '127.0.0.1:40000'];
    const r = load([...listen, `--${spec(a).flag}`, `127.0.0.1:${port}`, `--${spec(b).flag}`, `:${port}`]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].code).toBe('CONFIG_CONFLICT');
    const blamed = r.errors[0].flag;
    const other = blamed === `--${spec(a).flag}` ? spec(b).flag : spec(a).flag;
    expect([`--${spec(a).flag}`, `--${spec(b).flag}`]).toContain(blamed);
    expect(r.errors[0].message).toContain(`(--${other})`);
    // Different hosts (neither a wildcard) do not clash.
    expect(load([...listen, `--${spec(a).flag}`, `127.0.0.1:${port}`, `--${spec(b).flag}`, `127.0.0.2:${port}`]).ok).toBe(true);
  });

  it('a per-bus listener clashes through its second bus (port + 1), and the message names that bus', () => {
    const perBus = tcpListeners.filter((n) => spec(n).listener?.perBus);
    expect(perBus).toEqual(expect.arrayContaining(['listen', 'tcpcanListen', 'waveshareListen']));
    for (const n of tcpListeners.filter((x) => x !== 'listen')) {
      const r = load(['--can-if', 'can0,can1', '--listen', ':20000', `--${spec(n).flag}`, '127.0.0.1:20001']);
      expect(r.ok, n).toBe(false);
      if (!r.ok) expect(r.errors[0].message).toContain('the cannelloni port of can1 (--listen)');
    }
  });

  it('the Waveshare default setup offers (20001) is free with one bus, taken by cannelloni with two', () => {
    expect(load(['--waveshare-listen', ':20001']).ok).toBe(true);
    const r = load(['--can-if', 'can0,can1', '--waveshare-listen', ':20001']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0].message).toMatch(/--waveshare-listen .*port 20001 is also the cannelloni port of can1/);
    expect(load(['--can-if', 'can0,can1', '--waveshare-listen', ':20002']).ok).toBe(true);
  });

  it('a per-bus listener whose last bus would pass port 65535 is refused', () => {
    const r = load(['--can-if', 'can0,can1', '--waveshare-listen', ':65535']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0].message).toContain('at most 65534');
  });

  it('a UDP port never clashes with a TCP one (cannelloni on 20000 over TCP and UDP at once is the usual set-up)', () => {
    expect(udpListeners).toContain('cannelloniUdp');
    for (const u of udpListeners)
      for (const t of tcpListeners) {
        const listen = t === 'listen' ? [] : ['--listen', '127.0.0.1:40000'];
        expect(load([...listen, `--${spec(u).flag}`, ':30500', `--${spec(t).flag}`, ':30500']).ok, `${u} ${t}`).toBe(true);
      }
  });

  it('two UDP listeners on one port clash, by the same rule', () => {
    const specs = {
      a: { kind: 'address' as const, listener: { what: 'a', transport: 'udp' as const } },
      b: { kind: 'address' as const, listener: { what: 'b', transport: 'udp' as const } },
      t: { kind: 'address' as const, listener: { what: 't' } },
    };
    const clashes = listenerClashes(
      configuredListeners(specs, { a: { host: '', port: 9 }, b: { host: '127.0.0.1', port: 9 }, t: { host: '', port: 9 } }, ['can0']),
    );
    expect(clashes.map((c) => [c.listener.label, c.other.label])).toEqual([['the b UDP port', 'the a UDP port']]);
  });

  it('Unix sockets clash by path, and never with a TCP port', () => {
    const specs = {
      control: { kind: 'path' as const, listener: { what: 'control' } },
      web: { kind: 'path' as const, listener: { what: 'web' } },
      metrics: { kind: 'address' as const, listener: { what: 'metrics' } },
    };
    const at = (web: string) => listenerClashes(configuredListeners(specs, { control: '/run/x.sock', web, metrics: { host: '', port: 9100 } }, ['can0']));
    expect(at('/run/x.sock').map((c) => [c.listener.label, c.other.label])).toEqual([['the web socket', 'the control socket']]);
    expect(at('/run/y.sock')).toEqual([]);
  });
});
