// The socketcand beacon. SAFETY: broadcasts never leave this machine: the real beacon runs
// only inside a private network namespace (`unshare -rn`) with veth pairs created there;
// the script records `ip -o link` from inside and the test fails unless the namespace holds
// exactly the interfaces it created. The receiver is a plain UDP socket in the namespace.
// Uses the built module (`npm test` builds first; alone: `npm run build`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconTargets } from '../../../../src/protocols/socketcand/beacon.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const built = path.join(root, 'dist', 'src', 'protocols', 'socketcand', 'beacon.js');
const bin = path.join(root, 'dist', 'src', 'cli', 'main.js');

const iface = (address: string, netmask: string, internal = false) => ({
  address,
  netmask,
  family: 'IPv4' as const,
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});

describe('beacon targets', () => {
  const ifs = {
    lo: [iface('127.0.0.1', '255.0.0.0', true)],
    eth0: [
      iface('192.168.1.20', '255.255.255.0'),
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6' as const, mac: '', internal: false, cidr: null, scopeid: 1 },
    ],
    wlan0: [iface('10.1.2.3', '255.255.0.0')],
    tun0: [iface('10.8.0.2', '255.255.255.255')],
  };

  it('every non-loopback IPv4 interface with a broadcast address, for a wildcard listener', () => {
    expect(beaconTargets(ifs, '0.0.0.0')).toEqual([
      { iface: 'eth0', address: '192.168.1.20', broadcast: '192.168.1.255' },
      { iface: 'wlan0', address: '10.1.2.3', broadcast: '10.1.255.255' },
    ]);
    expect(beaconTargets(ifs, '')).toHaveLength(2);
  });

  it('only the interface holding a bound address; none for loopback', () => {
    expect(beaconTargets(ifs, '10.1.2.3')).toEqual([{ iface: 'wlan0', address: '10.1.2.3', broadcast: '10.1.255.255' }]);
    expect(beaconTargets(ifs, '127.0.0.1')).toEqual([]);
  });
});

describe('beacon in a private network namespace', () => {
  let dir: string;
  let links = '';
  let got: Array<{ text: string; from: string; t: number }> = [];
  let log = '';

  beforeAll(async () => {
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first (npm test does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-beacon-'));
    fs.writeFileSync(
      path.join(dir, 'run.mjs'),
      `
import dgram from 'node:dgram';
import { SocketcandBeacon } from ${JSON.stringify(built)};
const got = [];
const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
rx.on('message', (m, r) => got.push({ text: m.toString('latin1'), from: r.address, t: performance.now() }));
await new Promise((res) => rx.bind(42000, '0.0.0.0', res));
const logs = [];
const b = new SocketcandBeacon({ port: 29536, listenHost: '0.0.0.0', buses: ['can0', 'can1'], hostname: 'testhost', log: (l, e, f) => logs.push({ l, e, f }) });
await b.start();
await new Promise((res) => setTimeout(res, 3500));
await b.stop();
await new Promise((res) => setTimeout(res, 200));
rx.close();
console.log(JSON.stringify({ got, logs }));
`,
    );
    const script = `
      set -eu
      cd '${dir}'
      ip link set lo up
      ip link add v0 type veth peer name v1
      ip addr add 10.77.0.1/24 dev v0
      ip link set v0 up; ip link set v1 up
      ip link add w0 type veth peer name w1
      ip addr add 10.88.1.5/16 dev w0
      ip link set w0 up; ip link set w1 up
      ip -o link > links.txt
      # refuse to broadcast unless the namespace holds only what this script created
      if [ "$(grep -vcE ': (lo|v0@v1|v1@v0|w0@w1|w1@w0):' links.txt)" != "0" ]; then echo "unexpected interfaces" >&2; exit 99; fi
      node run.mjs > out.json
    `;
    const r = await execa('unshare', ['-rn', 'sh', '-c', script], { reject: false, timeout: 30_000 });
    if (r.exitCode !== 0) throw new Error(`namespace script failed (${r.exitCode}): ${r.stderr}`);
    links = fs.readFileSync(path.join(dir, 'links.txt'), 'utf8');
    const out = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as { got: typeof got; logs: unknown[] };
    got = out.got;
    log = JSON.stringify(out.logs);
  }, 60_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ran among the interfaces it created only', () => {
    const names = links
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1].trim().split('@')[0]);
    expect(names.sort()).toEqual(['lo', 'v0', 'v1', 'w0', 'w1']);
  });

  it("each interface's beacon carries its own address, in upstream's exact form", () => {
    const texts = new Set(got.map((g) => g.text));
    expect([...texts].sort()).toEqual([
      '<CANBeacon name="testhost" type="SocketCAN" description="socketcand">\n<URL>can://10.77.0.1:29536</URL><Bus name="can0"/><Bus name="can1"/></CANBeacon>',
      '<CANBeacon name="testhost" type="SocketCAN" description="socketcand">\n<URL>can://10.88.1.5:29536</URL><Bus name="can0"/><Bus name="can1"/></CANBeacon>',
    ]);
    expect(log).toContain('socketcand_beacon');
  });

  it('one round at start and one 3 s later, nothing on loopback', () => {
    const perUrl = (ip: string) => got.filter((g) => g.text.includes(`can://${ip}:`)).map((g) => g.t);
    for (const ip of ['10.77.0.1', '10.88.1.5']) {
      const times = perUrl(ip);
      expect(times).toHaveLength(2);
      expect(times[1] - times[0]).toBeGreaterThan(2900);
      expect(times[1] - times[0]).toBeLessThan(3400);
    }
    expect(got.every((g) => g.from !== '127.0.0.1')).toBe(true);
  });
});

describe('serve --socketcand-beacon in a private network namespace', () => {
  let dir: string;
  let links = '';
  let beacons: string[] = [];
  let serveLog = '';

  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-beacon-serve-'));
    fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
    fs.writeFileSync(
      path.join(dir, 'recv.py'),
      'import socket, sys\nr = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nr.bind(("0.0.0.0", 42000))\nr.settimeout(5)\nm, _ = r.recvfrom(2048)\nsys.stdout.write(m.decode("latin1"))\n',
    );
    const script = `
      set -eu
      cd '${dir}'
      ip link set lo up
      ip link add v0 type veth peer name v1
      ip addr add 10.77.0.1/24 dev v0
      ip link set v0 up; ip link set v1 up
      ip -o link > links.txt
      if [ "$(grep -vcE ': (lo|v0@v1|v1@v0):' links.txt)" != "0" ]; then echo "unexpected interfaces" >&2; exit 99; fi
      /usr/bin/python3 recv.py > beacon.txt &
      RECV=$!
      sleep 0.3
      node '${bin}' serve --backend virtual --virtual-rate 0 --can-if can0,can1 --listen 127.0.0.1:0 --socketcand-listen 0.0.0.0:0 --socketcand-beacon \\
        --log-format json --control-socket '${dir}/c.sock' --config '${dir}/none.json' 2> serve.log &
      SERVE=$!
      wait $RECV || true
      kill -TERM $SERVE; wait $SERVE || true
    `;
    const r = await execa('unshare', ['-rn', 'sh', '-c', script], { reject: false, timeout: 30_000 });
    if (r.exitCode !== 0) throw new Error(`namespace script failed (${r.exitCode}): ${r.stderr}`);
    links = fs.readFileSync(path.join(dir, 'links.txt'), 'utf8');
    beacons = [fs.readFileSync(path.join(dir, 'beacon.txt'), 'latin1')];
    serveLog = fs.readFileSync(path.join(dir, 'serve.log'), 'utf8');
  }, 60_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('announces the bound socketcand port and every bus, with the interface address', () => {
    expect(links.split('\n').filter(Boolean)).toHaveLength(3);
    const listen = serveLog
      .split('\n')
      .filter((l) => l.includes('"tcp_listen"') && l.includes('"socketcand"'))
      .map((l) => JSON.parse(l) as { addr: string });
    expect(listen).toHaveLength(1);
    const port = Number(listen[0].addr.split(':').pop());
    expect(port).toBeGreaterThan(0);
    expect(beacons[0]).toMatch(
      new RegExp(
        `^<CANBeacon name="[^"]+" type="SocketCAN" description="socketcand">\n<URL>can://10\\.77\\.0\\.1:${port}</URL><Bus name="can0"/><Bus name="can1"/></CANBeacon>$`,
      ),
    );
  });
});
