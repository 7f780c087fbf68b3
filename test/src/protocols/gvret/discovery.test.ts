// The GVRET discovery ping (UDP 17222 broadcast).
//
// SAFETY: broadcast never leaves this machine. The sender runs inside a private network
// namespace (`unshare -rn`) whose only interfaces are loopback and a veth pair created there
// (both ends inside); the script checks that before sending anything. The module under test
// is the built one (`npm test` builds first; alone: `npm run build`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const discoveryJs = path.join(root, 'dist', 'src', 'protocols', 'gvret', 'discovery.js');
const cliJs = path.join(root, 'dist', 'src', 'cli', 'main.js');

/** Runs the built serve with `flags` for `runMs` while listening on UDP 17222; prints JSON. */
const serveScript = (flags: string[], runMs: number, dir: string) => `
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
const got = [];
const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
rx.on('message', (msg, from) => got.push({ hex: msg.toString('hex'), from: from.address }));
await new Promise((r) => rx.bind(17222, '0.0.0.0', r));
const child = spawn(process.execPath, [${JSON.stringify(cliJs)}, 'serve', '--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0',
  '--control-socket', ${JSON.stringify(path.join(dir, 'c.sock'))}, '--config', ${JSON.stringify(path.join(dir, 'none.json'))}, '--log-format', 'json', ...${JSON.stringify(flags)}], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
child.stderr.on('data', (d) => (log += d));
await new Promise((r) => setTimeout(r, ${runMs}));
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rx.close();
console.log(JSON.stringify({ got, events: log.split('\\n').filter(Boolean).map((l) => JSON.parse(l).event) }));
`;

/** Listens on UDP 17222 inside the namespace while the discovery service runs; prints JSON. */
const listenerScript = (runMs: number) => `
import dgram from 'node:dgram';
import { createGvretDiscovery } from ${JSON.stringify(discoveryJs)};
const got = [];
const logs = [];
const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
rx.on('message', (msg, from) => got.push({ hex: msg.toString('hex'), from: from.address, port: from.port, at: performance.now() }));
await new Promise((r) => rx.bind(17222, '0.0.0.0', r));
const d = createGvretDiscovery({ log: (level, event, fields) => logs.push({ level, event, ...fields }) });
await d.start();
await new Promise((r) => setTimeout(r, ${runMs}));
await d.stop();
const after = got.length;
await new Promise((r) => setTimeout(r, 1500));
rx.close();
console.log(JSON.stringify({ got, logs, counters: d.counters(), afterStop: got.length - after }));
`;

async function inNamespace(
  setup: string,
  runMs: number,
  program: (dir: string) => string = () => listenerScript(runMs),
): Promise<{
  got: Array<{ hex: string; from: string; at: number }>;
  logs: Array<Record<string, unknown>>;
  counters: { sent: number; failed: number };
  afterStop: number;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gvret-discovery-'));
  try {
    fs.writeFileSync(path.join(dir, 'run.mjs'), program(dir));
    fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
    const script = `
      set -e
      ip link set lo up
      ${setup}
      # refuse to send anything unless every interface is one this script created
      if ip -o link | grep -vqE ': (lo|gv0@gv1|gv1@gv0):'; then echo "unexpected interface" >&2; exit 99; fi
      node ${JSON.stringify(path.join(dir, 'run.mjs'))}
    `;
    const r = await execa('unshare', ['-rn', 'sh', '-c', script], { reject: false, timeout: 30_000 });
    if (r.exitCode !== 0) throw new Error(`namespace script failed (${r.exitCode}): ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('GVRET discovery ping (inside a private network namespace)', () => {
  it('broadcasts 1C EF AC ED to UDP 17222 about once a second from the host address, and stops when stopped', async () => {
    const out = await inNamespace(
      `ip link add gv0 type veth peer name gv1
       ip addr add 10.77.0.1/24 dev gv0
       ip link set gv0 up
       ip link set gv1 up
       ip route add default dev gv0`,
      2600,
    );
    expect(out.got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(out.got.map((g) => g.hex))).toEqual(new Set(['1cefaced']));
    expect(new Set(out.got.map((g) => g.from))).toEqual(new Set(['10.77.0.1']));
    // One ping at start, then one per interval: never a burst.
    const gaps = out.got.slice(1).map((g, i) => g.at - out.got[i].at);
    expect(Math.min(...gaps)).toBeGreaterThan(500);
    expect(out.counters.failed).toBe(0);
    expect(out.afterStop).toBe(0);
    expect(out.logs.map((l) => l.event)).toEqual(['gvret_discovery_started']);
  }, 40_000);

  it('without a route it keeps trying, counts the failures and warns once with what to do', async () => {
    const out = await inNamespace('', 2600);
    expect(out.got).toEqual([]);
    expect(out.counters.sent).toBe(0);
    expect(out.counters.failed).toBeGreaterThanOrEqual(2);
    const warnings = out.logs.filter((l) => l.event === 'gvret_discovery_failed');
    expect(warnings.length).toBe(1);
    expect(String(warnings[0].hint)).toMatch(/route/);
  }, 40_000);

  it('serve pings only with --gvret-discovery (and a GVRET listener)', async () => {
    const veth = `ip link add gv0 type veth peer name gv1
       ip addr add 10.77.0.1/24 dev gv0
       ip link set gv0 up
       ip link set gv1 up
       ip route add default dev gv0`;
    type ServeOut = { got: Array<{ hex: string }>; events: string[] };
    const on = (await inNamespace(veth, 3000, (dir) => serveScript(['--gvret-listen', '127.0.0.1:0', '--gvret-discovery'], 3000, dir))) as unknown as ServeOut;
    expect(on.events).toContain('gvret_discovery_started');
    expect(on.got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(on.got.map((g) => g.hex))).toEqual(new Set(['1cefaced']));
    const off = (await inNamespace(veth, 2500, (dir) => serveScript(['--gvret-listen', '127.0.0.1:0'], 2500, dir))) as unknown as ServeOut;
    expect(off.events).toContain('ready');
    expect(off.got).toEqual([]);
  }, 60_000);
});
