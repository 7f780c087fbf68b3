// The house layer end to end on the built `serve`: a cannelloni client plays a scripted
// morning of Ampio broadcasts (diagnostics, a temperature, a door opening and closing,
// lights and a pump switching, a dimmer), and `modules --json`, `state --json`, the
// metrics, `top --modules` in a real terminal (tmux) and `capture query --decode` show
// exactly the scripted values with the names of a house file; a module that goes silent
// turns offline. `npm test` builds first; alone this file needs `npm run build`. tmux comes
// from .ci/run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmpioSnapshot, ModuleEntry, StateView } from '../../src/ampio/types.js';
import { BridgeChild, CLI } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';
import { requireHostTools } from '../support/host-tools.js';
import { createTmux, type TmuxHarness } from '../support/tmux.js';

const FIXTURE = new URL('../fixtures/ampio/house.yaml', import.meta.url);
const TMUX = `ampio-house-e2e-${process.pid}`;
const RELAYS = 0x1a1e;
const DIMMER = 0x19c7;
const SENSORS = 0x1886;
const EFF = 0x80000000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let bridge: BridgeChild;
let client: TestClient;
let term: TmuxHarness;
let metricsPort = 0;
let keepAlive: NodeJS.Timeout | null = null;
/** Set by the offline test: from then on the sensor module sends nothing. */
let sensorsSilent = false;

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('AMPIO_BRIDGE_') || k.startsWith('CAN_SERVER_')) continue;
    if (k === 'CI' || k === 'CONTINUOUS_INTEGRATION' || k === 'NO_COLOR' || k === 'TMUX') continue;
    out[k] = v;
  }
  return { ...out, AMPIO_BRIDGE_CONFIG: path.join(dir, 'none.json'), TERM: 'xterm-256color' };
}

function send(module: number, hex: string): void {
  client.send(encode({ id: (EFF | module) >>> 0, data: hex.split(' ').map((b) => Number.parseInt(b, 16)) }));
}

async function cli(...args: string[]): Promise<string> {
  const r = await execa(process.execPath, [CLI, ...args, ...(args[0] === 'capture' ? [] : ['--control-socket', bridge.controlSocket])], {
    env: env(),
    extendEnv: false,
  });
  return r.stdout;
}

const modulesJson = async () => JSON.parse(await cli('modules', '--json')) as AmpioSnapshot;
const stateJson = async (filter?: string) => JSON.parse(await cli('state', ...(filter ? [filter] : []), '--json')) as StateView[];
const byAddress = (a: AmpioSnapshot, address: number) => a.modules.find((m) => m.address === address) as ModuleEntry;

async function metrics(): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  return r.text();
}

/** The value of one series line, e.g. ampio_modules_online or ampio_module_supply_volts{module="…",name="…"}. */
function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  requireHostTools('tmux');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-house-e2e-'));
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
  fs.copyFileSync(FIXTURE, path.join(dir, 'house.yaml'));
  bridge = await BridgeChild.start({
    args: [
      '--config',
      path.join(dir, 'none.json'),
      '--backend',
      'virtual',
      '--virtual-rate',
      '0',
      '--listen',
      '127.0.0.1:0',
      '--metrics-addr',
      '127.0.0.1:0',
      '--ampio-config',
      path.join(dir, 'house.yaml'),
      '--ampio-offline-after',
      '4s',
      '--capture',
      path.join(dir, 'capture.db'),
      '--capture-commit-interval',
      '100ms',
    ],
  });
  const m = await bridge.waitFor((r) => r.event === 'metrics_listen', 5000, 'metrics_listen');
  metricsPort = Number(String(m.addr).split(':').at(-1));
  client = await TestClient.connect(bridge.port('cannelloni'));
  term = createTmux(TMUX, { env: env() });

  // 06:00 — every module reports its health; the living-room sensor its temperature.
  send(RELAYS, 'FE 4F 78 7D'); // 24.0 V, 25 °C
  send(DIMMER, 'FE 4F 6E 7F'); // 22.0 V, 27 °C
  send(SENSORS, 'FE 4F 69 7A'); // 21.0 V (below 21.6: sagging), 22 °C
  send(SENSORS, 'FE 06 BF 04'); // (0x04BF − 1000) / 10 = 21.5 °C
  // 06:30 — the front door opens (bin.1), the hall light goes on (bout.1) …
  send(RELAYS, 'FE 1B 01 00 00 00 00 00');
  send(RELAYS, 'FE 1E 01 00 00 00 00 00');
  // … the door closes again, and the garden pump starts (bout.3).
  send(RELAYS, 'FE 1B 00 00 00 00 00 00');
  send(RELAYS, 'FE 1E 05 00 00 00 00 00');
  // 07:00 — the dining table light dims to half (aout.2 = 128) and is on (binout.26).
  send(DIMMER, 'FE 0C 00 80 00 00 00 00');
  send(DIMMER, 'FE 0F 00 00 00 02 00 00');
  // An unknown state type: counted, never an error.
  send(RELAYS, 'FE 2B 01 02 03');
  // From now on every module repeats its health (the sensor module until the offline test).
  keepAlive = setInterval(() => {
    send(RELAYS, 'FE 4F 78 7D');
    send(DIMMER, 'FE 4F 6E 7F');
    if (!sensorsSilent) send(SENSORS, 'FE 4F 69 7A');
  }, 500);
});

afterAll(async () => {
  if (keepAlive) clearInterval(keepAlive);
  client?.destroy();
  if (term) {
    const socketPath = (await term.tmux('display-message', '-p', '#{socket_path}').catch(() => '')).trim();
    await term.kill();
    if (socketPath.includes(TMUX)) fs.rmSync(socketPath, { force: true });
  }
  await bridge?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a scripted Ampio morning on the built serve', () => {
  it('modules --json: every scripted module with its name, model, supply and temperature', async () => {
    let a = await modulesJson();
    for (let i = 0; i < 50 && !(byAddress(a, DIMMER)?.frames > 1); i++) {
      await sleep(100);
      a = await modulesJson();
    }
    expect(a.house).toMatchObject({ path: path.join(dir, 'house.yaml'), devices: 5, error: null });
    expect(a.offlineAfterMs).toBe(4000);
    expect(byAddress(a, RELAYS)).toMatchObject({
      name: 'Relays ground floor',
      model: 'MREL8S',
      area: 'Technical room',
      supplyVolts: 24,
      temperatureC: 25,
      online: true,
      known: true,
      types: [0x1b, 0x1e, 0x2b, 0x4f],
    });
    expect(byAddress(a, DIMMER)).toMatchObject({
      name: 'Dimmer living room',
      model: 'MDIM',
      supplyVolts: 22,
      temperatureC: 27,
      online: true,
      types: [0x0c, 0x0f, 0x4f],
    });
    expect(byAddress(a, SENSORS)).toMatchObject({
      name: 'Sensors living room',
      model: 'MSENS',
      supplyVolts: 21,
      temperatureC: 22,
      online: true,
      types: [0x06, 0x4f],
    });
    // Named in the file, never heard.
    expect(byAddress(a, 0x1879)).toMatchObject({ name: 'Colour strip', frames: 0, online: false });
    expect(a.decode.unknownTypes).toEqual({ '2b': 1 });
    expect(await cli('status')).toMatch(
      /ampio: 3 modules heard, 3 online · 1 with a low supply · \d+ state frames \(1 of unknown types\) · names from .*house\.yaml/,
    );
    const table = await cli('modules');
    expect(table).toMatch(/0x00001886\s+Sensors living room\s+MSENS\s+Living room\s+21\.0 V LOW\s+22 °C/);
  });

  it('state --json: the scripted values with names and units', async () => {
    const states = await stateJson();
    const value = (module: number, ref: string) => states.find((s) => s.module === module && s.ref === ref);
    expect(value(RELAYS, 'bin.1')).toMatchObject({ value: false, names: ['Front door'], moduleName: 'Relays ground floor' });
    expect(value(RELAYS, 'bout.1')).toMatchObject({ value: true, names: ['Hall ceiling'] });
    expect(value(RELAYS, 'bout.2')).toMatchObject({ value: false, names: [] });
    expect(value(RELAYS, 'bout.3')).toMatchObject({ value: true, names: ['Garden pump'] });
    expect(value(DIMMER, 'aout.2')).toMatchObject({ value: 128, names: ['Dining table'] });
    expect(value(DIMMER, 'binout.26')).toMatchObject({ value: true, names: ['Dining table'] });
    expect(value(SENSORS, 'temperature.1')).toMatchObject({ value: 21.5, unit: '°C', names: ['Living room temperature'] });
    expect(value(SENSORS, 'diagnostics.1')).toMatchObject({ value: { voltage: 21, temperature: 22 } });
    // The door went on and off again: its last change is after it was first seen.
    expect(value(RELAYS, 'bin.1')!.changedAt).toBeGreaterThan(0);
    // One module by entity name, as a table.
    const pump = await stateJson('Garden pump');
    expect(new Set(pump.map((s) => s.module))).toEqual(new Set([RELAYS]));
    expect(await cli('state', '0x1886')).toMatch(/Sensors living room \(0x00001886\)\s+temperature\.1\s+Living room temperature\s+21\.5 °C/);
  });

  it('modules --json --watch: one document per line until Ctrl-C', async () => {
    const child = execa(process.execPath, [CLI, 'modules', '--json', '--watch', '--interval', '200ms', '--control-socket', bridge.controlSocket], {
      env: env(),
      extendEnv: false,
      reject: false,
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
    for (let i = 0; i < 100 && out.split('\n').filter(Boolean).length < 3; i++) await sleep(100);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(0);
    const docs = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AmpioSnapshot);
    expect(docs.length).toBeGreaterThanOrEqual(3);
    for (const d of docs) expect(byAddress(d, RELAYS)).toMatchObject({ name: 'Relays ground floor', supplyVolts: 24 });
  });

  it('metrics: supply, temperature, last seen, online and decode counters', async () => {
    const text = await metrics();
    const labels = (address: number, name: string) => `{module="0x${address.toString(16).padStart(8, '0')}",name="${name}"}`;
    expect(metric(text, `ampio_module_supply_volts${labels(RELAYS, 'Relays ground floor')}`)).toBe(24);
    expect(metric(text, `ampio_module_supply_volts${labels(SENSORS, 'Sensors living room')}`)).toBe(21);
    expect(metric(text, `ampio_module_temperature_celsius${labels(DIMMER, 'Dimmer living room')}`)).toBe(27);
    expect(metric(text, `ampio_module_last_seen_seconds${labels(RELAYS, 'Relays ground floor')}`)).toBeLessThan(3);
    expect(metric(text, 'ampio_unknown_frames_total{type="2b"}')).toBe(1);
    expect(metric(text, 'ampio_state_frames_total{type="06"}')).toBe(1);
    expect(metric(text, 'ampio_decoded_frames_total')).toBeGreaterThanOrEqual(10);
  });

  it('top --modules in a terminal shows the same modules and values', async () => {
    await term.start(
      'top',
      { cols: 120, rows: 30 },
      'sh',
      '-c',
      `node ${JSON.stringify(CLI)} top --modules --interval 500ms --control-socket ${JSON.stringify(bridge.controlSocket)}; exec sleep 600`,
    );
    const text = await term.waitFor('top', (t) => t.includes('AMPIO MODULES') && t.includes('Sensors living room'), 'the modules view');
    expect(text).toMatch(/0x00001a1e\s+Relays ground floor\s+MREL8S\s+Technical room\s+24\.0 V\s+25 °C\s+\S+\s+online/);
    expect(text).toMatch(/0x000019c7\s+Dimmer living room\s+MDIM\s+Technical room\s+22\.0 V\s+27 °C\s+\S+\s+online/);
    expect(text).toMatch(/0x00001886\s+Sensors living room\s+MSENS\s+Living room\s+21\.0 V\s+22 °C/);
    expect(text).toMatch(/0x00001879\s+Colour strip\s+MRGBW\s+-\s+-\s+-\s+never\s+never heard/);
  });

  it('the silent module turns offline: modules, metrics, top and a log line', async () => {
    sensorsSilent = true;
    let a = await modulesJson();
    for (let i = 0; i < 200 && byAddress(a, SENSORS).online; i++) {
      await sleep(100);
      a = await modulesJson();
    }
    expect(byAddress(a, SENSORS).online).toBe(false);
    expect(byAddress(a, RELAYS).online).toBe(true);
    expect(byAddress(a, DIMMER).online).toBe(true);
    expect(metric(await metrics(), 'ampio_modules_online')).toBe(2);
    await bridge.waitFor((r) => r.event === 'ampio_module_offline' && r.module === '0x00001886', 5000, 'ampio_module_offline');
    // Offline modules come first in top, marked.
    await term.waitFor('top', /0x00001886\s+Sensors living room.*OFFLINE/, 'the sensor module OFFLINE');
  });

  it("capture query --decode prints each stored frame's meaning with the house file's names", async () => {
    let out = '';
    for (let i = 0; i < 50 && !out.includes('Garden pump'); i++) {
      await sleep(100);
      out = await cli(
        'capture',
        'query',
        '--capture',
        path.join(dir, 'capture.db'),
        '--id',
        '0x1a1e',
        '--limit',
        '0',
        '--decode',
        '--ampio-config',
        path.join(dir, 'house.yaml'),
      );
    }
    expect(out).toContain('Relays ground floor (0x00001a1e): bout.1–48 on: bout.1 "Hall ceiling", bout.3 "Garden pump"');
    expect(out).toContain('Relays ground floor (0x00001a1e): bin.1–48 on: bin.1 "Front door"');
    expect(out).toContain('Relays ground floor (0x00001a1e): diagnostics.1=24 V, 25 °C');
    expect(out).toContain('Relays ground floor (0x00001a1e) FE 2B: unknown type');
    const json = JSON.parse(
      await cli('capture', 'query', '--capture', path.join(dir, 'capture.db'), '--id', '0x1886', '--limit', '0', '--decode', '--json'),
    ) as Array<{ decoded: { values: unknown[] } | null }>;
    const diagnostics = [{ kind: 'diagnostics', channel: 1, value: { voltage: 21, temperature: 22 }, unit: null }];
    expect(json.slice(0, 2).map((r) => r.decoded?.values)).toEqual([diagnostics, [{ kind: 'temperature', channel: 1, value: 21.5, unit: '°C' }]]);
    // The rest are its repeated health reports.
    for (const r of json.slice(2)) expect(r.decoded?.values).toEqual(diagnostics);
  });

  it('a broken house file on SIGHUP is reported with line and column; the names stay', async () => {
    fs.writeFileSync(path.join(dir, 'house.yaml'), 'devices:\n  - can_id: 0x1a1e\n    name: Renamed\n    colour: red\n');
    bridge.reload();
    const failed = await bridge.waitFor((r) => r.event === 'ampio_config_failed', 5000, 'ampio_config_failed');
    expect(String(failed.error)).toContain('house.yaml:4:5: unknown key "colour"');
    const a = await modulesJson();
    expect(byAddress(a, RELAYS).name).toBe('Relays ground floor');
    expect(a.house.error).toContain(':4:5:');
  });
});

describe('serve --ampio=false', () => {
  it('decodes nothing: no ampio section, and modules/state say why (exit 1)', async () => {
    const plain = await BridgeChild.start({
      args: ['--config', path.join(dir, 'none.json'), '--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0', '--ampio=false'],
    });
    try {
      expect((await plain.snapshot()).ampio).toBeUndefined();
      for (const command of ['modules', 'state']) {
        const r = await execa(process.execPath, [CLI, command, '--control-socket', plain.controlSocket], { env: env(), extendEnv: false, reject: false });
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toContain(`ampio-bridge ${command}: the bridge does not decode Ampio frames`);
      }
    } finally {
      await plain.stop();
    }
  });
});
