// VM benchmark (test/vm/bench.sh runs it inside the CAN VM): bus → TCP client forwarding of
// the bridge's SocketCAN backend, side by side with the real cannelloni 2.1.2 when
// CANNELLONI=/path/to/cannelloni is given (else its rows say "skipped"). Same frames
// (cangen, extended 8-byte), same client (the cannelloni TCP client from test/support).
// Reports per contender: frames sent, frames the client got, lost, lost-and-counted (the
// bridge's kernel drops + hub drops), server CPU per frame (utime+stime from /proc).
// Under QEMU TCG everything is ~18x slower than native: the ratios are what matter.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../../src/control/control-client.js';
import { TestClient } from '../../support/cannelloni-client.js';
import { resetVcan, sleep } from './can-tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const FRAMES = Number(process.env.BENCH_FRAMES ?? 20000);
const GAP_MS = process.env.BENCH_GAP_MS ?? '0.1';
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,32').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
/** Frames sent (and received) before the measured burst; 0 = none. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
/** BENCH_BRIDGE_VARIANTS="--can-rx-coalesce 0;" runs the bridge once per `;`-separated set of extra args. */
const VARIANTS = (process.env.BENCH_BRIDGE_VARIANTS ?? '').split(';').map((v) => v.trim());
const PORT = 20000;
const TICK_MS = 1000 / 100; // USER_HZ
/** BENCH_PROFILE_DIR=dir: the bridge writes a V8 CPU profile there (where its time goes). */
const profileArgs = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];

interface Row {
  server: string;
  clients: number;
  run: number;
  sent: number;
  /** Fewest frames any one client received. */
  received: number;
  lost: number;
  /** Of the lost frames, how many a counter of the server reports (null: it has none). */
  counted: number | null;
  cpuMs: number;
  /** Of cpuMs, the part spent in the kernel (syscalls, and the loopback TCP path they run). */
  sysMs: number;
  /** How long cangen took to send the frames, ms. */
  burstMs: number;
  usPerFrame: number;
}

/** CPU ms per thread name (node's main thread is "node"; V8 and libuv helpers have their own). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** utime and stime of a process, ms. */
function cpuMs(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS };
}

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await sleep(200);
  }
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((r) => spawn(cmd, args, { stdio: 'ignore' }).once('exit', (c) => r(c ?? 1)));
}

/** The control socket appears after the TCP listener; under emulation that can take seconds. */
async function connectControl(socket: string): Promise<ControlClient> {
  const end = Date.now() + 120_000;
  for (;;) {
    try {
      return await ControlClient.connect(socket, { timeoutMs: 20_000 });
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(500);
    }
  }
}

async function bridgeCounters(socket: string): Promise<{ rx: number; kernelDrops: number; hubDrops: number }> {
  const c = await connectControl(socket);
  try {
    const s = await c.snapshot();
    const b = s.buses[0];
    return { rx: b.rxFrames, kernelDrops: b.rxKernelDrops ?? 0, hubDrops: s.totals.hubDrops };
  } finally {
    c.close();
  }
}

async function one(server: 'bridge' | 'cannelloni', clients: number, runNo: number, extra = ''): Promise<Row> {
  resetVcan('vcan0');
  const control = join(mkdtempSync(join(tmpdir(), 'ampio-bench-')), 'control.sock');
  // All clients come from 127.0.0.1: the per-host limit (16 by default) is lifted for 32.
  const child: ChildProcess =
    server === 'bridge'
      ? spawn(
          process.execPath,
          [
            ...profileArgs,
            join(ROOT, 'dist/src/cli/main.js'),
            'serve',
            '--backend',
            'socketcan',
            '--can-if',
            'vcan0',
            '--listen',
            `127.0.0.1:${PORT}`,
            '--log-level',
            'warn',
            '--control-socket',
            control,
            '--handshake-timeout',
            '30s',
            '--max-clients-per-host',
            '0',
            ...(extra ? extra.split(/\s+/) : []),
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        )
      : spawn(process.env.CANNELLONI as string, ['-I', 'vcan0', '-C', 's', '-L', '127.0.0.1', '-l', String(PORT)], { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await waitPort(PORT, 120_000);
    const cs: TestClient[] = [];
    for (let i = 0; i < clients; i++) cs.push(await TestClient.connect(PORT));
    await sleep(1000);
    if (WARMUP > 0) {
      // The same frames first, outside the measurement, for both servers: a daemon that runs
      // for weeks has its frame path compiled by V8's optimizing compiler, which the first
      // seconds of a fresh process spend doing (in this VM, seconds of CPU).
      const rcw = await run('cangen', ['vcan0', '-e', '-I', '1E5A', '-L', '8', '-D', 'i', '-g', GAP_MS, '-n', String(WARMUP)]);
      if (rcw !== 0) throw new Error(`cangen exited ${rcw}`);
      // until no client gets anything new for 2 s (at cangen -g 0 a server may lose some)
      for (let last = -1; ; ) {
        const total = cs.reduce((n, c) => n + c.frames.length, 0);
        if (total === last) break;
        last = total;
        await sleep(2000);
      }
      const none = cs.filter((c) => c.frames.length === 0).length;
      if (none > 0) throw new Error(`${none} of ${clients} clients received none of the ${WARMUP} warm-up frames`);
      for (const c of cs) c.frames.length = 0;
    }
    const c0 = server === 'bridge' ? await bridgeCounters(control) : null;
    const cpu0 = cpuMs(child.pid as number);
    const threads0 = threadCpu(child.pid as number);
    // BENCH_STRACE=1: count the server's syscalls during the burst (adds overhead: not for CPU figures)
    const tracer = process.env.BENCH_STRACE ? spawn('strace', ['-c', '-f', '-p', String(child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] }) : null;
    let traced = '';
    tracer?.stderr?.on('data', (d: Buffer) => (traced += d.toString()));
    const t0 = Date.now();
    const rc = await run('cangen', ['vcan0', '-e', '-I', '1E5A', '-L', '8', '-D', 'i', '-g', GAP_MS, '-n', String(FRAMES)]);
    const burstMs = Date.now() - t0;
    if (rc !== 0) throw new Error(`cangen exited ${rc}`);
    // done when no client got anything new for 2 s
    let last = -1;
    for (;;) {
      const total = cs.reduce((n, c) => n + c.frames.length, 0);
      if (total === last) break;
      last = total;
      await sleep(2000);
    }
    const cpu1 = cpuMs(child.pid as number);
    const threads1 = threadCpu(child.pid as number);
    const byThread = [...threads1].map(([name, ms]) => `${name} ${Math.round(ms - (threads0.get(name) ?? 0))}`).join(', ');
    process.stdout.write(`@@threads ${server} ${extra} (${clients} clients): CPU ms by thread: ${byThread}\n`);
    if (tracer) {
      tracer.kill('SIGINT');
      await new Promise((r) => tracer.once('exit', r));
      process.stdout.write(`strace -c ${server} ${extra} (${clients} clients):\n${traced}\n`);
    }
    const received = Math.min(...cs.map((c) => c.frames.length));
    let counted: number | null = null;
    if (c0) {
      const c1 = await bridgeCounters(control);
      const kernel = c1.kernelDrops - c0.kernelDrops;
      // hub drops are per client and frame; for the worst client at most its own share
      counted = kernel + Math.min(c1.hubDrops - c0.hubDrops, FRAMES - kernel - received);
    }
    for (const c of cs) c.destroy();
    const cpu = cpu1.user + cpu1.sys - cpu0.user - cpu0.sys;
    return {
      server: extra ? `${server} ${extra}` : server,
      clients,
      run: runNo,
      sent: FRAMES,
      received,
      lost: FRAMES - received,
      counted,
      cpuMs: cpu,
      sysMs: cpu1.sys - cpu0.sys,
      burstMs,
      usPerFrame: Math.round((cpu * 1000) / FRAMES),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const haveCannelloni = !!process.env.CANNELLONI && existsSync(process.env.CANNELLONI);
  const rows: Row[] = [];
  for (let r = 1; r <= RUNS; r++) {
    for (const clients of CLIENTS) {
      for (const extra of VARIANTS) {
        rows.push(await one('bridge', clients, r, extra));
        process.stdout.write(`@@bench ${JSON.stringify(rows.at(-1))}\n`);
      }
      // cannelloni's TCP server takes one client at a time
      if (clients === 1) {
        if (haveCannelloni) {
          rows.push(await one('cannelloni', clients, r));
          process.stdout.write(`@@bench ${JSON.stringify(rows.at(-1))}\n`);
        } else {
          process.stdout.write('@@bench {"server":"cannelloni","skipped":"set CANNELLONI=/path/to/cannelloni (2.1.2) to compare"}\n');
        }
      }
    }
  }
  console.log(`\nframes: cangen -e -L 8 -g ${GAP_MS} -n ${FRAMES} on vcan0 (after ${WARMUP} warm-up frames); CPU = server utime+stime`);
  console.log(`${'server'.padEnd(30)} clients run   sent  received  lost  counted  burst ms  cpu ms  (sys)  µs/frame  vs cannelloni`);
  for (const x of rows) {
    const ref = rows.find((y) => y.server === 'cannelloni' && y.run === x.run && y.clients === 1);
    const ratio = ref && x.server.startsWith('bridge') ? `${(x.usPerFrame / ref.usPerFrame).toFixed(2)}×` : '';
    console.log(
      `${x.server.padEnd(30)} ${String(x.clients).padStart(7)} ${String(x.run).padStart(3)} ${String(x.sent).padStart(6)} ${String(x.received).padStart(9)} ${String(x.lost).padStart(5)} ${String(x.counted ?? 'n/a').padStart(8)} ${String(x.burstMs).padStart(9)} ${String(Math.round(x.cpuMs)).padStart(7)} ${String(Math.round(x.sysMs)).padStart(6)} ${String(x.usPerFrame).padStart(9)}  ${ratio}`,
    );
  }
  if (RUNS > 1) {
    // Runs are interleaved (each contender once per run), so a noisy minute hits all of them.
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const groups = new Map<string, Row[]>();
    for (const x of rows) groups.set(`${x.server}|${x.clients}`, [...(groups.get(`${x.server}|${x.clients}`) ?? []), x]);
    const ref = groups.get('cannelloni|1');
    const refMedian = ref ? median(ref.map((x) => x.usPerFrame)) : null;
    console.log(`\nmedians of ${RUNS} runs`);
    for (const [key, xs] of groups) {
      const [server, clients] = key.split('|');
      const m = median(xs.map((x) => x.usPerFrame));
      const ratio = refMedian && server.startsWith('bridge') ? `  ${(m / refMedian).toFixed(2)}×` : '';
      console.log(`${server.padEnd(30)} ${clients.padStart(7)}  µs/frame ${String(m).padStart(5)}  lost (worst) ${Math.max(...xs.map((x) => x.lost))}${ratio}`);
    }
  }
  if (!haveCannelloni) console.log('cannelloni: skipped (CANNELLONI=/path/to/cannelloni not given)');
}

await main();
