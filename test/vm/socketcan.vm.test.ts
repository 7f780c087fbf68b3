// SocketCAN on a real Linux kernel (issue 3). Boots ONE throwaway VM for the whole suite
// with test/vm/canvm.sh (Debian's stock kernel, vcan0/vcan1 with the CAN FD MTU, vcan
// echo=1 so tc shaping applies to readers), or runs natively in a private network
// namespace where this kernel has vcan (test/vm/native.sh). Inside, test/vm/guest-suite.sh
// runs the guest programs (test/vm/guest/*.ts, built to dist/) that drive the real backend
// and daemon with can-utils as independent peers; each prints `@@check {json}` lines, and
// the tests below assert them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The whole guest run: 270 s sufficed before the binding checks (burst, errno, 1,000
 * open/close, confirmation timing), the tcpcan check (about 80 s under TCG) and the
 * socketcand checks (about 25 s) were added; a shared, busy host needs the rest; the real
 * cannelloni checks (CANNELLONI=…) add about 2 minutes. */
const GUEST_TIMEOUT_S = 660;

// biome-ignore lint/suspicious/noExplicitAny: the guest's JSON details, read field by field by each check below
type GuestDetails = Record<string, any>;

interface CheckLine {
  name: string;
  ok: boolean;
  ms: number;
  details: GuestDetails;
  error?: string;
}

const checks = new Map<string, CheckLine>();
const exits = new Map<string, { rc: number; seconds: number }>();
let output = '';
let mode: 'native' | 'vm' = 'vm';
let wallSeconds = 0;

function newestMtime(dir: string, ext = '.ts'): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The guest runs the compiled dist/: build it when it is missing or older than its sources. */
function ensureBuilt(): void {
  const outputs = [
    'dist/test/vm/guest/socketcan-backend.js',
    'dist/test/vm/guest/socketcan-daemon.js',
    'dist/test/vm/guest/gvret-checks.js',
    'dist/test/vm/guest/socketcand.js',
    'dist/test/vm/guest/cannelloni-peer.js',
    'dist/src/cli/main.js',
    'dist/src/core/bus-load.js',
  ].map((p) => join(ROOT, p));
  const sources = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'test', 'vm')), newestMtime(join(ROOT, 'test', 'support')));
  const fresh = outputs.every((p) => existsSync(p) && statSync(p).mtimeMs >= sources);
  if (fresh) return;
  // tsc emits even when some other file has a type error; the guest only needs its own.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  for (const p of outputs) if (!existsSync(p)) throw new Error(`build did not produce ${p}: run npm run build`);
  // The guest loads the x64 addon from this tree (node-gyp's build/ from npm ci, else the
  // prebuilt one): build the prebuilt one when neither exists or the C source is newer.
  const addons = ['build/Release/ampio_can.node', 'prebuilds/linux-x64/ampio-can.glibc.napi.node'].map((p) => join(ROOT, p)).filter((p) => existsSync(p));
  const cSource = statSync(join(ROOT, 'src/backends/socketcan/native/ampio_can.c')).mtimeMs;
  if (!addons.some((p) => statSync(p).mtimeMs >= cSource)) {
    const r = spawnSync('bash', ['src/backends/socketcan/native/prebuild.sh', 'x64'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the SocketCAN addon failed: ${r.stderr}`);
    // node-gyp-build prefers build/: a stale one would shadow the fresh prebuilt addon
    for (const p of addons) if (p.includes('/build/')) spawnSync('rm', ['-rf', join(ROOT, 'build')]);
  }
}

function runGuest(): Promise<number> {
  const native = spawnSync('bash', ['test/vm/native.sh', '--check'], { cwd: ROOT, stdio: 'ignore' }).status === 0;
  mode = native ? 'native' : 'vm';
  const runner = native ? 'test/vm/native.sh' : 'test/vm/canvm.sh';
  const env = {
    ...process.env,
    CANVM_VCAN_MTU: '72',
    CANVM_VCAN_ECHO: '1',
    CANVM_TIMEOUT: String(GUEST_TIMEOUT_S),
  };
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [runner, '--', 'bash', 'test/vm/guest-suite.sh'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (output += d));
    child.stderr.on('data', (d: string) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      wallSeconds = (performance.now() - t0) / 1000;
      for (const line of output.split('\n')) {
        if (line.startsWith('@@check ')) {
          const c = JSON.parse(line.slice(8)) as CheckLine;
          checks.set(c.name, c);
        } else if (line.startsWith('@@exit ')) {
          const [, name, rc, seconds] = line.split(' ');
          exits.set(name, { rc: Number(rc), seconds: Number(seconds) });
        }
      }
      resolvePromise(code ?? 1);
    });
  });
}

/** A check's details; fails with the guest's own message when it failed or never ran. */
function passed(name: string): GuestDetails {
  const c = checks.get(name);
  if (!c) throw new Error(`guest check ${name} did not run (${mode}); output tail:\n${output.slice(-3000)}`);
  if (!c.ok) throw new Error(`guest check ${name} failed: ${c.error}`);
  return c.details;
}

beforeAll(
  async () => {
    ensureBuilt();
    await runGuest();
    const summary = [...checks.values()].map((c) => `${c.name}=${c.ok ? 'ok' : 'FAIL'}(${(c.ms / 1000).toFixed(1)}s) ${JSON.stringify(c.details)}`);
    process.stderr.write(`[socketcan-vm] mode=${mode} total ${wallSeconds.toFixed(1)} s\n  ${summary.join('\n  ')}\n`);
  },
  (GUEST_TIMEOUT_S + 60) * 1000,
);

describe(`SocketCAN backend on a real kernel`, () => {
  it('the guest program ran to the end', () => {
    expect(exits.get('socketcan-backend'), output.slice(-3000)).toBeDefined();
  });

  it('bus → bridge: classic, extended, zero-length, RTR with DLC and FD frames match candump frame for frame, with kernel timestamps', () => {
    const d = passed('rx_frames');
    expect(d.frames).toBe(9);
    expect(d.candump).toBe(9);
    // frames after the first carry the kernel's receive time, identical to candump's
    expect((d.tsDiffUs as number[]).slice(1).every((x) => Math.abs(x) <= 1)).toBe(true);
  });

  it('bridge → bus: the same frames, FD with and without BRS, as candump sees them', () => {
    expect(passed('tx_frames').frames).toBe(8);
  });

  it('two channels at once, each its own bus, no cross-talk', () => {
    const d = passed('two_channels');
    expect(d.vcan0).toEqual({ rx: 60, tx: 20 });
    expect(d.vcan1).toEqual({ rx: 60, tx: 20 });
  });

  it('an FD frame to a classic-MTU interface is refused and counted; MTU changes are followed', () => {
    const d = passed('fd_on_classic');
    expect(d.reopens).toBe(2);
  });

  it('link down: state absent/down, TX refused as link_down; link up: reopened within 2 s', () => {
    const d = passed('link_down_up');
    expect(d.busStateWhileDown).toBe('down');
    expect(d.upToOpenMs).toBeLessThan(2000);
  });

  it('interface deleted and re-created: reopened within 2 s of coming back', () => {
    expect(passed('delete_recreate').recreateToOpenMs).toBeLessThan(2000);
  });

  it('interface absent at start: start() resolves with state absent, opens within 2 s of appearing', () => {
    expect(passed('absent_at_start').appearToOpenMs).toBeLessThan(2000);
  });

  it('error frames drive the bus state: passive → bus-off (TX refused) → restarted → active, counted', () => {
    const d = passed('error_frames');
    expect(d.states).toEqual(['error-passive', 'bus-off', 'error-active']);
    expect(d.counters).toMatchObject({ errorFrames: 3, busOff: 1, errorPassive: 1, restarted: 1 });
  });

  it('a 50 kbit/s bus (tc tbf): TX queues through ENOBUFS, drops what outlived tx-max-age, never replays stale frames', () => {
    const d = passed('tbf_staleness');
    expect(d.stale).toBeGreaterThan(0);
    expect(d.onBus + d.stale).toBe(d.sent);
    expect(d.enobufsRetries).toBeGreaterThan(0);
    expect(d.maxQueueAgeAtWriteMs).toBeLessThanOrEqual(700);
  });

  it('FD frames of 0..8 bytes arrive marked FD, with BRS/ESI as candump saw them', () => {
    expect(passed('fd_small_frames').fdFrames).toBe(4);
  });

  it('a burst beyond what the bridge can read: frames read + kernel drops = exactly the frames sent', () => {
    const d = passed('kernel_drops_burst');
    expect(d.kernelDrops).toBeGreaterThan(0);
    expect(d.read + d.kernelDrops).toBe(d.sent);
  });

  it('read pacing: a fast burst is read many frames per wakeup, none lost, in order; a quiet socket is read at readiness again; close while paced is clean', () => {
    const d = passed('paced_reads');
    expect(d.read).toBe(d.sent);
    expect(d.pacedSeen).toBe(true);
    expect(d.meanBatch).toBeGreaterThanOrEqual(2);
    expect(d.pacedAfterIdle).toBe(false);
    expect(d.callbacksAfterClose).toBe(0);
    expect(d.setPacing).toEqual({ pacedWhileOff: false, pacedOnceOn: true, pacedAfterOff: false, badValue: 22, afterClose: 9 });
  });

  it('the receive buffer: an unprivileged process gets at most net.core.rmem_max, root what it asks; raising rmem_max lifts the cap', () => {
    const d = passed('rcvbuf_unprivileged');
    expect(d.unprivileged).toBe(2 * Math.min(d.asked, d.rmemMax));
    expect(d.unprivileged).toBeLessThan(2 * d.asked);
    expect(d.root).toBe(2 * d.asked);
    expect(d.raised).toBe(2 * d.asked);
    // changed on an open socket (a reload): more, the kernel's default, EBADF once closed
    expect(d.grown).toBe(4 * d.asked);
    expect(d.backToDefault).toBe(2 * d.rmemDefault);
    expect(d.afterClose).toBe(-9);
  });

  it("each frame carries how long it waited in the kernel's queue: ~0 when read at once, the rest of a block when the loop was held", () => {
    const d = passed('read_wait');
    expect(d.promptMs).toBeGreaterThanOrEqual(0);
    expect(d.promptMs).toBeLessThan(500);
    expect(d.blockedMs).toBeGreaterThanOrEqual(500);
    expect(d.blockedMs).toBeLessThanOrEqual(d.blockMs);
  });

  it('send() reports the errno: ENOBUFS from a full 50 kbit/s qdisc, ENETDOWN, ENXIO', () => {
    expect(passed('send_errno')).toMatchObject({ full: 'ENOBUFS', down: 'ENETDOWN', gone: 'ENXIO' });
  });

  it('1,000 opens and closes (and backend reopens) leave no file descriptor behind', () => {
    const d = passed('close_reopen_fds');
    expect(d.fdsAfter).toBeLessThanOrEqual(d.fdsBefore);
  });
});

describe('`ampio-bridge serve --backend socketcan --can-if vcan0,vcan1` on a real kernel', () => {
  it('the guest program ran to the end; serve started, listening on 20000 and 20001', () => {
    expect(exits.get('socketcan-daemon'), output.slice(-3000)).toBeDefined();
    expect(passed('daemon_start').listen).toEqual([20000, 20001]);
  });

  it('bus → clients: every frame (classic, extended, RTR, FD, 100 from cangen) to every client of that bus, as candump saw it', () => {
    expect(passed('daemon_bus_to_clients')).toEqual({ frames: 107, clients: 2 });
  });

  it('client → bus: frames reach the bus as sent (FD with BRS) and are echoed to the other client only', () => {
    expect(passed('daemon_clients_to_bus').frames).toBe(6);
  });

  it('two channels at once on consecutive ports, each in bus order, no cross-talk', () => {
    expect(passed('daemon_two_channels').perBus).toBe(100);
  });

  it('link down/up and delete/re-create with clients connected: TX dropped as link_down, reopened within 2 s, nothing replayed', () => {
    const d = passed('daemon_link_faults');
    expect(d.linkDownDrops).toBe(5);
    expect(d.reopens).toBe(2);
    expect(d.upToReopenedMs).toBeLessThan(2000);
    expect(d.recreateToReopenedMs).toBeLessThan(2000);
  });

  it('an FD frame toward a classic interface is dropped as fd_unsupported; the client stays', () => {
    expect(passed('daemon_fd_to_classic').fdUnsupported).toBe(1);
  });

  it('50 kbit/s bus: a 400-frame burst queues, stale frames are dropped and counted, the rest arrive in order and are echoed', () => {
    const d = passed('daemon_tbf_staleness');
    expect(d.stale).toBeGreaterThan(0);
    expect(d.onBus + d.stale).toBe(400);
  });

  it('tcpcan (--tcpcan-listen) next to cannelloni: SocketCAN frames both ways, FD on the MTU 72 vcan, echo across protocols', () => {
    expect(passed('daemon_tcpcan')).toEqual({ toTcpcan: 6, fromTcpcan: 4 });
  });

  it('a burst while serve is stopped: rx_frames + kernel drops in the snapshot = exactly the frames sent', () => {
    const d = passed('daemon_kernel_drops');
    expect(d.kernelDrops).toBeGreaterThan(0);
    expect(d.read + d.kernelDrops).toBe(d.sent);
  });

  it('frames the kernel held longer than --client-max-lag (daemon stopped) reach no client; counted as read late', () => {
    expect(passed('daemon_read_late')).toEqual({ late: 5, clientGot: ['3af'] });
  });

  it('50 kbit/s bus: a client frame reaches the other client only after it left the qdisc', () => {
    const d = passed('daemon_tx_confirm_timing');
    expect(d.frames).toBe(20);
    expect(d.busSpanMs).toBeGreaterThan(25);
  });

  it('SIGTERM: serve exits 0 with a shutdown summary', () => {
    expect(passed('daemon_shutdown').exitCode).toBe(0);
  });
});

describe('socketcand clients through the same serve (`--socketcand-listen 127.0.0.1:29536`)', () => {
  it('bus → RAW-mode clients on vcan0 and vcan1: frames as candump saw them (no RTR), SEC.USEC = the kernel receive time', () => {
    const d = passed('socketcand_rx_kernel_timestamps');
    expect(d).toMatchObject({ vcan0: 4, vcan1: 2 });
    // every frame judged, each channel's first one included
    expect(d.tsDiffUs).toHaveLength(6);
    expect((d.tsDiffUs as number[]).every((x) => Math.abs(x) <= 1)).toBe(true);
  });

  it('client → bus on both channels: SFF, EFF, bit-31 EFF, empty; the RTR form dropped; no echo to the sender', () => {
    expect(passed('socketcand_tx_both_channels').frames).toBe(4);
  });
});

describe('bus load against `canbusload -e` on the same frames (issue 4, test/vm/busload-compare.sh)', () => {
  it('every run agrees: same frames, same bit total, load within 1 percentage point', () => {
    // busload-compare.sh prints "<run name>  {json}" per run and exits non-zero on a mismatch
    const runs = output
      .split('\n')
      .map((l) => /^(\S+)\s+(\{"ok":.*\})\s*$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1], ...(JSON.parse(m[2]) as { ok: boolean; frames: { ours: number; canbusload: number } }) }));
    expect(
      runs.map((r) => r.name),
      output.slice(-3000),
    ).toEqual(['std-8byte-random', 'ext-random', 'std-zeros', 'std-increment-busy']);
    for (const r of runs) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(r.frames.ours).toBe(r.frames.canbusload);
    }
    expect(exits.get('busload-compare')?.rc).toBe(0);
  });
});

describe('GVRET on a real kernel (two vcans, MTU 72; the daemon of the checks above)', () => {
  it('SavvyCAN and WireTAP connect to one port serving both buses', () => {
    expect(passed('gvret_connect')).toMatchObject({ savvyConnected: 'connected', buses: 2 });
  });

  it('bus → GVRET: each frame with its bus and the kernel receive time; FD to WireTAP only, zero-length withheld from SavvyCAN', () => {
    expect(passed('gvret_bus_to_clients')).toMatchObject({ frames: 5, savvy: 3, timestampsFromKernel: true });
  });

  it('GVRET → bus: SavvyCAN and WireTAP frames (FD included) on the interface their bus byte names', () => {
    expect(passed('gvret_clients_to_bus').frames).toBe(4);
  });

  it('SavvyCAN stays connected through its keepalives', () => {
    expect(passed('gvret_keepalive').keepalives).toBeGreaterThan(0);
  });
});

// The real cannelloni 2.1.2, built outside the repository (CANNELLONI=/path/to/cannelloni; the
// guest reports these checks skipped without it, and so do these tests).
const haveCannelloni = !!process.env.CANNELLONI;
const cannelloniTitle = (t: string) => (haveCannelloni ? t : `${t} (skipped: set CANNELLONI=/path/to/cannelloni)`);
describe('the real cannelloni 2.1.2 on vcan0, the bridge on vcan1', () => {
  it.skipIf(!haveCannelloni)(
    cannelloniTitle(
      'UDP both ways (cannelloni -R/-r/-l ↔ --cannelloni-udp with the peer configured): 1,000 classic and 200 FD frames each way, none lost, no UDP loss counted',
    ),
    () => {
      expect(passed('cannelloni_udp')).toMatchObject({ classicIn: 1000, classicOut: 1000, fdIn: 200, fdOut: 200, datagramsLost: 0, datagramsMisordered: 0 });
    },
  );

  it.skipIf(!haveCannelloni)(
    cannelloniTitle(
      'dial-out to `cannelloni -C s`: frames both ways; cannelloni killed and restarted, the bridge reconnects within its backoff and frames flow again',
    ),
    () => {
      const d = passed('cannelloni_dial_out');
      expect(d).toMatchObject({ before: [100, 100], after: [100, 100] });
      expect(d.reconnectMs).toBeLessThan(8000);
    },
  );
});
