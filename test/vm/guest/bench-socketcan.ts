// VM benchmark (test/vm/bench.sh runs it inside the CAN VM): bus → TCP client forwarding of
// the bridge's SocketCAN backend, side by side with the real cannelloni 2.1.2 when
// CANNELLONI=/path/to/cannelloni is given (else its rows say "skipped"). Same frames
// (cangen, extended 8-byte), same client (the cannelloni TCP client from test/support).
// Reports per contender: frames sent, frames the client got, lost, lost-and-counted (the
// bridge's kernel drops + hub drops), server CPU per frame (utime+stime from /proc).
// Under QEMU TCG everything is ~18x slower than native: the ratios are what matter.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
  usPerFrame: number;
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
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

async function bridgeCounters(socket: string): Promise<{ rx: number; kernelDrops: number; hubDrops: number }> {
  const c = await ControlClient.connect(socket, { timeoutMs: 20_000 });
  try {
    const s = await c.snapshot();
    const b = s.buses[0];
    return { rx: b.rxFrames, kernelDrops: b.rxKernelDrops ?? 0, hubDrops: s.totals.hubDrops };
  } finally {
    c.close();
  }
}

async function one(server: 'bridge' | 'cannelloni', clients: number, runNo: number): Promise<Row> {
  resetVcan('vcan0');
  const control = join(mkdtempSync(join(tmpdir(), 'ampio-bench-')), 'control.sock');
  const child: ChildProcess =
    server === 'bridge'
      ? spawn(process.execPath, [...profileArgs, join(ROOT, 'dist/src/cli/main.js'), 'serve', '--backend', 'socketcan', '--can-if', 'vcan0', '--listen', `127.0.0.1:${PORT}`, '--log-level', 'warn', '--control-socket', control, '--handshake-timeout', '30s'], { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn(process.env.CANNELLONI as string, ['-I', 'vcan0', '-C', 's', '-L', '127.0.0.1', '-l', String(PORT)], { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await waitPort(PORT, 120_000);
    const cs: TestClient[] = [];
    for (let i = 0; i < clients; i++) cs.push(await TestClient.connect(PORT));
    await sleep(1000);
    const c0 = server === 'bridge' ? await bridgeCounters(control) : null;
    const cpu0 = cpuMs(child.pid as number);
    const rc = await run('cangen', ['vcan0', '-e', '-I', '1E5A', '-L', '8', '-D', 'i', '-g', GAP_MS, '-n', String(FRAMES)]);
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
    const received = Math.min(...cs.map((c) => c.frames.length));
    let counted: number | null = null;
    if (c0) {
      const c1 = await bridgeCounters(control);
      const kernel = c1.kernelDrops - c0.kernelDrops;
      // hub drops are per client and frame; for the worst client at most its own share
      counted = kernel + Math.min(c1.hubDrops - c0.hubDrops, FRAMES - kernel - received);
    }
    for (const c of cs) c.destroy();
    const cpu = cpu1 - cpu0;
    return { server, clients, run: runNo, sent: FRAMES, received, lost: FRAMES - received, counted, cpuMs: cpu, usPerFrame: Math.round((cpu * 1000) / FRAMES) };
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
      rows.push(await one('bridge', clients, r));
      process.stdout.write(`@@bench ${JSON.stringify(rows.at(-1))}\n`);
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
  console.log(`\nframes: cangen -e -L 8 -g ${GAP_MS} -n ${FRAMES} on vcan0; CPU = server utime+stime`);
  console.log('server       clients run   sent  received  lost  counted  cpu ms  µs/frame  vs cannelloni');
  for (const x of rows) {
    const ref = rows.find((y) => y.server === 'cannelloni' && y.run === x.run && y.clients === 1);
    const ratio = ref && x.server === 'bridge' ? (x.usPerFrame / ref.usPerFrame).toFixed(2) + '×' : '';
    console.log(
      `${x.server.padEnd(12)} ${String(x.clients).padStart(7)} ${String(x.run).padStart(3)} ${String(x.sent).padStart(6)} ${String(x.received).padStart(9)} ${String(x.lost).padStart(5)} ${String(x.counted ?? 'n/a').padStart(8)} ${String(Math.round(x.cpuMs)).padStart(7)} ${String(x.usPerFrame).padStart(9)}  ${ratio}`,
    );
  }
  if (!haveCannelloni) console.log('cannelloni: skipped (CANNELLONI=/path/to/cannelloni not given)');
}

await main();
