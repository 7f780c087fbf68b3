// socketcand end to end with real peers: the BUILT `serve` (virtual backend, two buses, every
// listener on 127.0.0.1 port 0), python-can 4.1 (Debian's python3-can, /usr/bin/python3) as
// the real socketcand client, a cannelloni client written from the spec on the same buses,
// and a socketcand client written from the protocol description for BCM mode.
// `npm test` builds first; alone: `npm run build` before running this file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeChild } from '../support/bridge-child.js';
import { encode, TestClient } from '../support/cannelloni-client.js';
import { SocketcandClient } from '../support/socketcand-client.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(root, 'dist', 'src', 'cli', 'main.js');
const pyClient = path.join(root, 'test', 'support', 'python-can-socketcand.py');

interface PyEvent {
  ev: 'connected' | 'sent' | 'rx' | 'done';
  id?: number;
  ext?: boolean;
  data?: string;
  ts?: number;
  count?: number;
}

/** The built serve these tests share: two buses, cannelloni per bus, one socketcand port. */
interface Serve {
  cannelloni: number[];
  socketcand: number;
  metrics: number;
  controlSocket: string;
  stop(): Promise<unknown>;
}

async function startServe(): Promise<Serve> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-sc-'));
  // An empty config file: a config in this user's config dir must not change the run.
  fs.writeFileSync(path.join(dir, 'none.json'), '{}\n');
  const bridge = await BridgeChild.start({
    args: [
      '--backend',
      'virtual',
      '--virtual-rate',
      '0',
      '--can-if',
      'can0,can1',
      '--listen',
      '127.0.0.1:0',
      '--socketcand-listen',
      '127.0.0.1:0',
      '--flush-interval',
      '0',
      '--metrics-addr',
      '127.0.0.1:0',
      '--log-level',
      'debug',
      '--config',
      path.join(dir, 'none.json'),
    ],
  });
  return {
    cannelloni: [bridge.port('cannelloni', 0), bridge.port('cannelloni', 1)],
    socketcand: bridge.port('socketcand'),
    metrics: Number(String(bridge.events('metrics_listen')[0]?.addr).split(':').pop()),
    controlSocket: bridge.controlSocket,
    stop: async () => {
      await bridge.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the python-can client; resolves with its events (and stderr for diagnosis). */
async function pythonCan(
  port: number,
  channel: string,
  args: string[],
  onEvent?: (e: PyEvent) => void,
): Promise<{ events: PyEvent[]; stderr: string; exitCode: number }> {
  const child = execa('/usr/bin/python3', [pyClient, '127.0.0.1', String(port), channel, ...args], {
    reject: false,
    timeout: 30_000,
    buffer: { stdout: false },
  });
  const events: PyEvent[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const e = JSON.parse(pending.slice(0, nl)) as PyEvent;
      pending = pending.slice(nl + 1);
      events.push(e);
      onEvent?.(e);
    }
  });
  const r = await child;
  return { events, stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let serve: Serve;

beforeAll(async () => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import can.interfaces.socketcand'], { stdio: 'pipe' });
  } catch {
    throw new Error('python3-can is missing: apt-get install -y python3-can');
  }
  serve = await startServe();
}, 30_000);

afterAll(async () => {
  await serve?.stop();
});

describe('python-can 4.1 through the built serve', () => {
  it('connects, and receives paced frames from a cannelloni client on the same bus (SFF, EFF, empty)', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    const sent: Array<{ id: number; data: number[] }> = [];
    for (let k = 0; k < 20; k++)
      sent.push({ id: k % 3 === 0 ? 0x1abcde00 + k : 0x100 + k, data: k % 5 === 0 ? [] : [k, 0xa5, k ^ 0xff].slice(0, 1 + (k % 3)) });
    const run = pythonCan(serve.socketcand, 'can0', ['--recv', '20', '--timeout', '10'], (e) => {
      if (e.ev !== 'connected') return;
      void (async () => {
        await sleep(100);
        for (const f of sent) {
          cnl.send(encode({ id: f.id > 0x7ff ? (f.id | 0x80000000) >>> 0 : f.id, data: f.data }));
          // python-can 4.1 loses a message cut across two of its reads: pace the frames.
          await sleep(15);
        }
      })();
    });
    const { events, stderr, exitCode } = await run;
    cnl.destroy();
    expect(exitCode, stderr).toBe(0);
    // python-can 4.1 logs every stray byte it sees as "Bad data" (WARNING, on stderr by default).
    expect(stderr).not.toContain('Bad data');
    const rx = events.filter((e) => e.ev === 'rx');
    expect(rx.map((e) => ({ id: e.id, data: e.data }))).toEqual(sent.map((f) => ({ id: f.id, data: Buffer.from(f.data).toString('hex') })));
    // Timestamps are the receive time on the bridge: close to now.
    for (const e of rx) expect(Math.abs(e.ts! - Date.now() / 1000)).toBeLessThan(60);
  });

  it('receives an unpaced burst of 400 frames without loss (RAW messages start with a space)', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    const burst = Array.from({ length: 400 }, (_, k) => encode({ id: 0x200 + (k % 0x500), data: [k & 0xff, k >> 8, 1, 2, 3, 4, 5, 6] }));
    const run = pythonCan(serve.socketcand, 'can0', ['--recv', '400', '--timeout', '10'], (e) => {
      if (e.ev === 'connected') setTimeout(() => cnl.send(...burst), 100);
    });
    const { events, exitCode, stderr } = await run;
    cnl.destroy();
    expect(exitCode, stderr).toBe(0);
    const rx = events.filter((e) => e.ev === 'rx');
    expect(rx.map((e) => e.data!.slice(0, 4))).toEqual(Array.from({ length: 400 }, (_, k) => Buffer.from([k & 0xff, k >> 8]).toString('hex')));
  });

  it('connects while the bus is busy (a frame every ms): each reply of its handshake is read alone', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    let flooding = true;
    const flood = (async () => {
      for (let k = 0; flooding; k++) {
        cnl.send(encode({ id: 0x7a, data: [k & 0xff] }));
        await sleep(1);
      }
    })();
    const runs = await Promise.all([0, 1, 2].map(() => pythonCan(serve.socketcand, 'can0', ['--recv', '20', '--timeout', '5'])));
    flooding = false;
    await flood;
    cnl.destroy();
    for (const { events, stderr, exitCode } of runs) {
      expect(exitCode, stderr).toBe(0);
      expect(events.filter((e) => e.ev === 'rx').length).toBe(20);
    }
  });

  it('sends SFF, EFF and empty frames that a cannelloni client on the same bus sees', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    const { exitCode, stderr } = await pythonCan(serve.socketcand, 'can0', ['--send', '123#010aff', '--send', '1ABCDEF0#0001020304050607', '--send', '456#']);
    expect(exitCode, stderr).toBe(0);
    const frames = await cnl.waitForFrames(3);
    cnl.destroy();
    expect(frames.map((f) => ({ id: f.id >>> 0, data: f.data.toString('hex') }))).toEqual([
      { id: 0x123, data: '010aff' },
      { id: (0x1abcdef0 | 0x80000000) >>> 0, data: '0001020304050607' },
      { id: 0x456, data: '' },
    ]);
  });

  it('opens each of two buses by name; frames stay on their bus', async () => {
    const bus1 = await TestClient.connect(serve.cannelloni[1]);
    const bus0 = await TestClient.connect(serve.cannelloni[0]);
    const run = pythonCan(serve.socketcand, 'can1', ['--recv', '2', '--timeout', '5', '--send', '321#11'], (e) => {
      if (e.ev !== 'connected') return;
      void (async () => {
        await sleep(100);
        bus0.send(encode({ id: 0x10, data: [0] }));
        await sleep(15);
        bus1.send(encode({ id: 0x11, data: [1] }));
        await sleep(15);
        bus1.send(encode({ id: 0x12, data: [2] }));
      })();
    });
    const { events, exitCode, stderr } = await run;
    expect(exitCode, stderr).toBe(0);
    expect(events.filter((e) => e.ev === 'rx').map((e) => e.id)).toEqual([0x11, 0x12]);
    await bus1.waitForFrames(1);
    expect(bus1.frames.map((f) => f.id)).toEqual([0x321]);
    await sleep(50);
    expect(bus0.frames.map((f) => f.id)).toEqual([]);
    bus0.destroy();
    bus1.destroy();
  });

  it('an unknown bus is refused as upstream does (error, then close); python-can raises', async () => {
    const c = await SocketcandClient.connect(serve.socketcand);
    c.write('< open can9 >');
    await c.until(() => c.closed, 3000, 'the close');
    expect(c.messages).toEqual(['< hi >', '< error could not open bus >']);
    const { exitCode, stderr } = await pythonCan(serve.socketcand, 'can9', []);
    expect(exitCode).not.toBe(0);
    expect(stderr).toContain('< ok > message expected');
  });
});

describe('observability', () => {
  it('a python-can session shows up in status and metrics with protocol=socketcand', async () => {
    let release!: () => void;
    const connected = new Promise<void>((r) => (release = r));
    const run = pythonCan(serve.socketcand, 'can1', ['--recv', '1', '--timeout', '3'], (e) => e.ev === 'connected' && release());
    await connected;
    await sleep(100);
    const status = await execa(process.execPath, [bin, 'status', '--json', '--control-socket', serve.controlSocket], { reject: false });
    expect(status.exitCode, String(status.stderr)).toBe(0);
    const snap = JSON.parse(String(status.stdout)) as { clients: Array<{ protocol?: string; bus: string }> };
    expect(
      snap.clients.filter((c) => c.protocol === 'socketcand').map((c) => c.bus),
      JSON.stringify(snap.clients),
    ).toEqual(['can1']);
    const metrics = await (await fetch(`http://127.0.0.1:${serve.metrics}/metrics`)).text();
    expect(metrics).toMatch(/hub_active_clients\{protocol="socketcand"\} 1\b/);
    await run;
    const after = await (await fetch(`http://127.0.0.1:${serve.metrics}/metrics`)).text();
    expect(after).toMatch(/hub_active_clients\{protocol="socketcand"\} 0\b/);
  });
});

describe("the README's python-can snippet", () => {
  it('runs as written (port substituted): sends 0x123 to the bus and prints a received frame', async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Connect with python-can'));
    const code = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    if (!code) throw new Error('README: no python block under "Connect with python-can"');
    expect(code).toContain('port=29536');
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    const py = execa('/usr/bin/python3', ['-c', code.replace('port=29536', `port=${serve.socketcand}`)], { reject: false, timeout: 20_000 });
    // Once its frame arrived the script is connected and in recv(): answer it.
    await cnl.waitForFrames(1, 10_000);
    // Frames start 50 ms after the rawmode < ok >; the script sent right after it.
    await sleep(100);
    cnl.send(encode({ id: 0x321, data: [0xbe, 0xef] }));
    const r = await py;
    cnl.destroy();
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(cnl.frames.map((f) => [f.id, f.data.toString('hex')])).toEqual([[0x123, '010aff']]);
    expect(String(r.stdout)).toMatch(/ID: 0*321 .*DL:\s+2\s+be ef/);
  });
});

describe('BCM mode through the built serve', () => {
  it('a cyclic job runs at the requested period (median within 1 ms) and stops on disconnect', async () => {
    const raw = await SocketcandClient.connect(serve.socketcand, 'can0');
    await raw.command('< rawmode >', '< ok >');
    await sleep(50);
    const bcm = await SocketcandClient.connect(serve.socketcand, 'can0');
    bcm.write('< add 0 10000 123 2 de ad >');
    await raw.waitFrames(60, 5000);
    bcm.socket.destroy();
    await sleep(100);
    const count = raw.frames.length;
    await sleep(300);
    expect(raw.frames.length).toBe(count);
    const times = raw.frames.map((f) => f.time * 1000);
    const gaps = times.slice(1).map((t, k) => t - times[k]);
    expect(Math.abs(median(gaps) - 10)).toBeLessThan(1);
    expect(raw.frames.every((f) => f.idText === '123' && f.data.toString('hex') === 'dead')).toBe(true);
    raw.close();
  });

  it('subscribe delivers BCM-form frames of that id only; filter only changes', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    const bcm = await SocketcandClient.connect(serve.socketcand, 'can0');
    bcm.write('< subscribe 0 0 321 >< filter 0 0 222 1 ff >< echo >');
    await bcm.expect('< echo >');
    for (const [id, d] of [
      [0x321, [0xaa, 0xbb]],
      [0x999, [1]],
      [0x222, [1, 9]],
      [0x222, [1, 8]],
      [0x222, [2, 8]],
      [0x321, []],
    ] as const) {
      cnl.send(encode({ id, data: [...d] }));
      await sleep(5);
    }
    await bcm.waitFrames(4);
    await sleep(50);
    expect(bcm.messages.filter((m) => m.startsWith('< frame')).map((m) => m.replace(/ \d+\.\d{6} /, ' T '))).toEqual([
      '< frame 321 T AA BB  >',
      '< frame 222 T 01 09  >',
      '< frame 222 T 02 08  >',
      '< frame 321 T  >',
    ]);
    cnl.destroy();
    bcm.close();
  });

  it('rawmode < ok > arrives alone even while the bus is busy; control mode statistics', async () => {
    const cnl = await TestClient.connect(serve.cannelloni[0]);
    let flooding = true;
    void (async () => {
      while (flooding) {
        cnl.send(encode({ id: 0x7, data: [1] }));
        await sleep(1);
      }
    })();
    // A client slow to read (python-can on a busy Pi): whatever arrived within 10 ms comes
    // in one read. Without the server's hold the frames that followed the `< ok >` would
    // be in it, and python-can 4.1 would fail its handshake. (`onread`: pause() then really
    // stops reading from the socket.)
    const reads: string[] = [];
    const slow = net.connect({
      port: serve.socketcand,
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(65536), callback: (n, buf) => (reads.push(Buffer.from(buf).toString('latin1', 0, n)), true) },
    });
    const waitReads = async (n: number) => {
      for (let k = 0; reads.length < n && k < 300; k++) await sleep(10);
    };
    await waitReads(1);
    slow.write('< open can0 >');
    await waitReads(2);
    expect(reads.slice(0, 2)).toEqual(['< hi >', '< ok >']);
    slow.pause();
    slow.write('< rawmode >');
    await sleep(10);
    slow.resume();
    await waitReads(4);
    slow.destroy();
    expect(reads[2]).toBe('< ok >');
    expect(reads[3]).toMatch(/^ < frame 007 /);
    const c = await SocketcandClient.connect(serve.socketcand, 'can0');
    await c.command('< rawmode >', '< ok >');
    await c.waitFrames(5);
    // Frames already on their way still arrive before the reply: count the replies.
    const oks = () => c.messages.filter((m) => m === '< ok >').length;
    c.write('< controlmode >');
    await c.until(() => oks() === 3, 3000, 'the controlmode < ok >');
    c.write('< statistics 100 >');
    await c.until(() => c.messages.filter((m) => m.startsWith('< stat ')).length >= 2, 3000, 'two stat messages');
    flooding = false;
    const stat = c.messages.filter((m) => m.startsWith('< stat '));
    expect(stat[0]).toMatch(/^< stat \d+ \d+ \d+ \d+ >$/);
    // rbytes rpackets tbytes tpackets of the bus: the flood went to the bus (tx), the
    // silent virtual bus received nothing of its own.
    const [rb, rp, tb, tp] = stat[1].slice(7, -2).split(' ').map(Number);
    expect([rb, rp]).toEqual([0, 0]);
    expect(tp).toBeGreaterThanOrEqual(5);
    expect(tb).toBeGreaterThanOrEqual(tp);
    cnl.destroy();
    c.close();
  });
});
