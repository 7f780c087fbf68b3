// mDNS advertisement and discovery.
//
// SAFETY: multicast never leaves this machine. Everything that sends mDNS runs inside a
// private network namespace (`unshare -rn`) whose only interface is loopback; the script
// prints `ip -o link` from inside and the test fails unless that is `lo` alone.
// The independent client is Debian's python3-zeroconf (/usr/bin/python3); the bridge side
// is the built CLI (`npm test` builds first; alone: `npm run build`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBridges } from '../../../src/cli/commands/discover.js';
import { mdnsInstanceNames, mdnsTxt } from '../../../src/system/mdns.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const bin = path.join(root, 'dist', 'src', 'cli', 'main.js');
const browsePy = path.join(root, 'test', 'support', 'zeroconf-browse.py');
const pkgVersion = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('instance names and TXT', () => {
  it('defaults to ampio-bridge-<hostname>, one bus: no suffix', () => {
    expect(mdnsInstanceNames('', 'raspberrypi', ['can0'])).toEqual(['ampio-bridge-raspberrypi']);
    expect(mdnsInstanceNames('', 'pi.home.lan', ['can0'])).toEqual(['ampio-bridge-pi']);
    expect(mdnsInstanceNames('Garage', 'pi', ['can0'])).toEqual(['Garage']);
  });

  it('two buses get a bus suffix; device paths become labels', () => {
    expect(mdnsInstanceNames('', 'pi', ['can0', 'can1'])).toEqual(['ampio-bridge-pi-can0', 'ampio-bridge-pi-can1']);
    expect(mdnsInstanceNames('hall', 'pi', ['/dev/ttyUSB0', '/dev/ttyACM0'])).toEqual(['hall-ttyUSB0', 'hall-ttyACM0']);
  });

  it('names fit a 63-byte DNS label, suffix kept', () => {
    const names = mdnsInstanceNames('x'.repeat(63), 'pi', ['can0', 'can1']);
    expect(names.map((n) => n.length)).toEqual([63, 63]);
    expect(names[1].endsWith('-can1')).toBe(true);
  });

  it('TXT: backend, bus, version, proto=cannelloni (+ bitrate when known)', () => {
    expect(mdnsTxt('socketcan', '1.0.0', { bus: 'can0', host: '', port: 20000, bitrate: 50000 })).toEqual({
      backend: 'socketcan',
      bus: 'can0',
      version: '1.0.0',
      proto: 'cannelloni',
      bitrate: '50000',
    });
    expect(mdnsTxt('serial', '1.0.0', { bus: '/dev/ttyUSB0', host: '', port: 20000, bitrate: null })).not.toHaveProperty('bitrate');
  });

  it('discover lists name, host, port, addresses, bus and version in aligned columns', () => {
    const text = formatBridges([
      { name: 'ampio-bridge-pi', host: 'pi.local', port: 20000, addresses: ['192.168.1.5'], bus: 'can0', version: '1.0.0', backend: 'socketcan', txt: {} },
      { name: 'old-go-bridge', host: 'x.local', port: 20001, addresses: [], bus: null, version: null, backend: null, txt: {} },
    ]);
    expect(text.split('\n')).toEqual([
      'NAME             HOST       PORT  ADDRESSES    BUS   VERSION',
      'ampio-bridge-pi  pi.local  20000  192.168.1.5  can0  1.0.0',
      'old-go-bridge    x.local   20001  -            -     -',
      '',
    ]);
  });
});

interface BrowseEvent {
  ev: 'add' | 'remove' | 'update' | 'unresolved';
  name: string;
  addresses?: string[];
  port?: number;
  server?: string;
  txt?: Record<string, string>;
}

describe('in a private network namespace with loopback only', () => {
  let dir: string;
  let out: {
    links: string;
    serveLog: string;
    discover1: string;
    discover1Rc: number;
    discover2Rc: number;
    discover2Err: string;
    browse: BrowseEvent[];
    serveRc: number;
    browseHttp: BrowseEvent[];
  };

  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import zeroconf'], { stdio: 'pipe' });
    } catch {
      throw new Error('python3-zeroconf is missing: apt-get install -y python3-zeroconf');
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-mdns-'));
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    // One namespace for everything: the bridge, the independent client and discover.
    const script = `
      set -u
      cd ${q(dir)}
      ip link set lo up multicast on
      ip route add 224.0.0.0/4 dev lo
      ip -o link > links.txt
      # refuse to send anything unless loopback is the only interface
      if [ "$(grep -vc ': lo:' links.txt)" != "0" ]; then echo "not loopback-only" >&2; exit 99; fi
      node ${q(bin)} serve --backend virtual --can-if can0,can1 --listen 127.0.0.1:0 --mdns-enable --mdns-name test-bridge --http-listen 127.0.0.1:0 \\
        --control-socket ${q(path.join(dir, 'c.sock'))} --log-format json --config ${q(path.join(dir, 'none.json'))} > serve.log 2>&1 &
      SERVE=$!
      i=0; while [ "$(grep -c mdns_published serve.log)" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
      /usr/bin/python3 ${q(browsePy)} 6 > browse.jsonl 2> browse.err &
      BROWSE=$!
      /usr/bin/python3 ${q(browsePy)} 3 _http._tcp.local. > browse-http.jsonl 2>> browse.err &
      BROWSE_HTTP=$!
      sleep 2
      node ${q(bin)} discover --timeout 2s --json > discover1.json 2> discover1.err; echo $? > discover1.rc
      kill -TERM $SERVE; wait $SERVE; echo $? > serve.rc
      node ${q(bin)} discover --timeout 1s --json > discover2.json 2> discover2.err; echo $? > discover2.rc
      wait $BROWSE
      wait $BROWSE_HTTP
    `;
    fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
    const r = await execa('unshare', ['-rn', 'sh', '-c', script], { reject: false, timeout: 60_000 });
    if (r.exitCode !== 0) throw new Error(`namespace script failed (${r.exitCode}): ${r.stderr}`);
    const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
    out = {
      links: read('links.txt'),
      serveLog: read('serve.log'),
      discover1: read('discover1.json'),
      discover1Rc: Number(read('discover1.rc')),
      discover2Rc: Number(read('discover2.rc')),
      discover2Err: read('discover2.err'),
      browse: read('browse.jsonl')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BrowseEvent),
      serveRc: Number(read('serve.rc')),
      browseHttp: read('browse-http.jsonl')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BrowseEvent),
    };
  }, 90_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const ports = (): Record<string, number> => {
    const listens = out.serveLog
      .split('\n')
      .filter((l) => l.includes('"tcp_listen"'))
      .map((l) => JSON.parse(l) as { addr: string; bus: string });
    return Object.fromEntries(listens.map((l) => [l.bus, Number(l.addr.split(':').pop())]));
  };

  it('ran with loopback as the only interface', () => {
    const names = out.links
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1].trim());
    expect(names).toEqual(['lo']);
  });

  it('python3-zeroconf resolves both listeners with port, address and TXT', () => {
    const p = ports();
    expect(Object.keys(p).sort()).toEqual(['can0', 'can1']);
    const adds = out.browse.filter((e) => e.ev === 'add').sort((a, b) => a.name.localeCompare(b.name));
    const hostname = os.hostname().split('.')[0];
    expect(adds).toEqual([
      {
        ev: 'add',
        name: 'test-bridge-can0._can-server._tcp.local.',
        addresses: ['127.0.0.1'],
        port: p.can0,
        server: `${hostname}.local.`,
        txt: { backend: 'virtual', bus: 'can0', version: pkgVersion, proto: 'cannelloni', bitrate: '50000' },
      },
      {
        ev: 'add',
        name: 'test-bridge-can1._can-server._tcp.local.',
        addresses: ['127.0.0.1'],
        port: p.can1,
        server: `${hostname}.local.`,
        txt: { backend: 'virtual', bus: 'can1', version: pkgVersion, proto: 'cannelloni', bitrate: '50000' },
      },
    ]);
  });

  it('the web page is advertised as _http._tcp, so http://<host>.local:<port>/ is found', () => {
    const web = out.serveLog
      .split('\n')
      .filter((l) => l.includes('"metrics_listen"'))
      .map((l) => JSON.parse(l) as { addr: string })[0];
    const port = Number(web.addr.split(':').pop());
    const hostname = os.hostname().split('.')[0];
    expect(out.browseHttp.filter((e) => e.ev === 'add')).toEqual([
      {
        ev: 'add',
        name: 'test-bridge._http._tcp.local.',
        addresses: ['127.0.0.1'],
        port,
        server: `${hostname}.local.`,
        txt: { backend: 'virtual', bus: 'all', version: pkgVersion, proto: 'http', path: '/' },
      },
    ]);
  });

  it('discover --json finds both bridges', () => {
    expect(out.discover1Rc).toBe(0);
    const p = ports();
    const found = JSON.parse(out.discover1) as Array<Record<string, unknown>>;
    expect(found.map((b) => [b.name, b.port, b.bus, b.version, b.addresses])).toEqual([
      ['test-bridge-can0', p.can0, 'can0', pkgVersion, ['127.0.0.1']],
      ['test-bridge-can1', p.can1, 'can1', pkgVersion, ['127.0.0.1']],
    ]);
  });

  it('shutdown withdraws the services (goodbye): the client sees them removed, discover finds none', () => {
    expect(out.serveRc).toBe(0);
    expect(out.serveLog).toContain('"mdns_withdrawn"');
    const removed = out.browse
      .filter((e) => e.ev === 'remove')
      .map((e) => e.name)
      .sort();
    expect(removed).toEqual(['test-bridge-can0._can-server._tcp.local.', 'test-bridge-can1._can-server._tcp.local.']);
    expect(out.discover2Rc).toBe(1);
    expect(out.discover2Err).toContain('no bridge answered within 1s');
  });
});
