import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../../src/config/load.js';

const load = (argv: string[], env: Record<string, string> = {}): LoadResult =>
  loadConfig({ argv, env, isRoot: false, userConfigDir: path.join(os.tmpdir(), 'ampio-gvret-options-none'), cwd: os.tmpdir() });

describe('GVRET options', () => {
  it('are off by default: no listener, no FD, no discovery broadcast', () => {
    const r = load([]);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    expect(r.config.gvretListen).toBeNull();
    expect(r.config.gvretFd).toBe('off');
    expect(r.config.gvretDiscovery).toBe(false);
  });

  it('parse an address, an FD form and the discovery switch (flags and env)', () => {
    const r = load(['--gvret-listen', ':2323', '--gvret-fd', 'wiretap'], { AMPIO_BRIDGE_GVRET_DISCOVERY: 'true' });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    expect(r.config.gvretListen).toEqual({ host: '', port: 2323 });
    expect(r.config.gvretFd).toBe('wiretap');
    expect(r.config.gvretDiscovery).toBe(true);
  });

  it('refuse discovery without a GVRET listener, saying what to set', () => {
    const r = load(['--gvret-discovery']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].code).toBe('CONFIG_CONFLICT');
    expect(r.errors[0].message).toMatch(/--gvret-listen is off/);
  });

  it('refuse a GVRET port that is also a cannelloni port', () => {
    const r = load(['--can-if', 'can0,can1', '--listen', ':20000', '--gvret-listen', ':20001']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].message).toMatch(/cannelloni port of can1/);
  });

  it('refuse a GVRET port that is also a tcpcan or the metrics port', () => {
    const a = load(['--tcpcan-listen', ':20010', '--gvret-listen', ':20010']);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.errors[0].message).toMatch(/also the tcpcan port of can0/);
    const b = load(['--metrics-addr', '127.0.0.1:2323', '--gvret-listen', ':2323']);
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.errors[0].message).toMatch(/also the GVRET port/);
  });

  it('refuse an FD form that does not exist', () => {
    const r = load(['--gvret-fd', 'yes']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].message).toMatch(/off, esp32ret, wiretap/);
  });
});
