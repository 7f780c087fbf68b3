// Guest side of the VM suite: the real cannelloni 2.1.2 (CANNELLONI=/path/to/cannelloni, built
// outside the repository) against the BUILT CLI. cannelloni serves vcan0, the bridge vcan1, so
// every frame candump sees on the far side crossed the tunnel; cangen is the independent
// source. Two checks:
//   cannelloni_udp       `cannelloni -I vcan0 -R 127.0.0.1 -r B -l C` ↔ `--cannelloni-udp`
//                        with the peer configured: 1,000 classic + 200 FD frames each way, none
//                        lost, UDP loss counters at 0.
//   cannelloni_dial_out  `cannelloni -C s` and `--cannelloni-connect`: frames both ways; then
//                        cannelloni killed and restarted: the bridge reconnects within its
//                        backoff and frames flow again.
// Without CANNELLONI each check reports {skipped}. Prints `@@check {json}` lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../../src/control/control-client.js';
import type { Snapshot } from '../../../src/control/protocol.js';
import { Candump, check, equalLists, resetVcan, runChecks, sleep } from './can-tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const CANNELLONI = process.env.CANNELLONI ?? '';
const SKIPPED = { skipped: 'set CANNELLONI=/path/to/cannelloni (2.1.2) to run it' };
const T = 60_000;
const BRIDGE_UDP = 20300;
const CANNELLONI_UDP = 20301;
const CANNELLONI_TCP = 20310;

class Bridge {
  readonly events: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly controlSocket = join(mkdtempSync(join(tmpdir(), 'ampio-vm-cn-')), 'control.sock');
  private tail = '';

  constructor(flags: string[]) {
    this.child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/src/cli/main.js'),
        'serve',
        '--backend',
        'socketcan',
        '--can-if',
        'vcan1',
        '--listen',
        '127.0.0.1:20320',
        '--log-format',
        'json',
        '--log-level',
        'debug',
        '--control-socket',
        this.controlSocket,
        ...flags,
      ],
      { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    let buf = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => {
      buf += d;
      this.tail = (this.tail + d).slice(-3000);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  async waitEvent(event: string, n: number, timeoutMs = T): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(event) < n) {
      if (Date.now() > deadline) throw new Error(`the bridge did not log ${event} (#${n}); stderr tail: ${this.tail}`);
      await sleep(50);
    }
  }

  async snapshot(): Promise<Snapshot> {
    const c = await ControlClient.connect(this.controlSocket, { timeoutMs: 10_000 });
    try {
      return await c.snapshot();
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

function startCannelloni(args: string[]): ChildProcess {
  // Everything on 127.0.0.1 (-L local, -R remote): nothing leaves the VM's loopback.
  return spawn(CANNELLONI, ['-I', 'vcan0', '-L', '127.0.0.1', '-R', '127.0.0.1', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  await gone;
}

/** cangen on `from`, candump on `to`: the frames must arrive all, in order, unchanged. */
async function crossing(from: string, to: string, n: number, fd: boolean): Promise<number> {
  const dump = await Candump.start(from, to);
  const gen = spawn('cangen', [from, '-n', String(n), '-g', '2', '-I', 'i', '-L', fd ? '16' : '8', '-D', 'i', ...(fd ? ['-f', '-b'] : [])], {
    stdio: 'ignore',
  });
  await new Promise<void>((r) => gen.once('exit', () => r()));
  const deadline = Date.now() + T;
  const of = (iface: string) => dump.lines().filter((l) => l.iface === iface);
  while (of(to).length < n && Date.now() < deadline) await sleep(100);
  await sleep(300);
  const lines = await dump.stop();
  const sent = lines.filter((l) => l.iface === from).map((l) => l.text);
  const got = lines.filter((l) => l.iface === to).map((l) => l.text);
  check(sent.length === n, `cangen sent ${sent.length} of ${n} on ${from}`);
  equalLists(got, sent, `${from} → ${to}${fd ? ' (FD)' : ''}`);
  return got.length;
}

async function udpBothWays(): Promise<Record<string, unknown>> {
  if (!CANNELLONI || !existsSync(CANNELLONI)) return SKIPPED;
  resetVcan('vcan0');
  resetVcan('vcan1');
  // -t 10000: cannelloni's buffer timeout (µs) down from 100 ms, as the bridge's --flush-interval.
  const cn = startCannelloni(['-r', String(BRIDGE_UDP), '-l', String(CANNELLONI_UDP), '-t', '10000']);
  const bridge = new Bridge(['--cannelloni-udp', `127.0.0.1:${BRIDGE_UDP}`, '--cannelloni-udp-peer', `127.0.0.1:${CANNELLONI_UDP}`]);
  try {
    await bridge.waitEvent('udp_listen', 1);
    await sleep(1000);
    const classicIn = await crossing('vcan0', 'vcan1', 1000, false);
    const classicOut = await crossing('vcan1', 'vcan0', 1000, false);
    const fdIn = await crossing('vcan0', 'vcan1', 200, true);
    const fdOut = await crossing('vcan1', 'vcan0', 200, true);
    const snap = await bridge.snapshot();
    const peer = snap.clients.find((c) => c.protocol === 'cannelloni-udp');
    check(peer, `no cannelloni-udp client in ${JSON.stringify(snap.clients)}`);
    check(peer.datagramsLost === 0 && peer.datagramsMisordered === 0, `UDP loss on loopback: ${JSON.stringify(peer)}`);
    check(snap.totals.malformed === 0, `malformed datagrams: ${snap.totals.malformed}`);
    return {
      classicIn,
      classicOut,
      fdIn,
      fdOut,
      framesIn: peer.framesIn,
      framesOut: peer.framesOut,
      datagramsLost: peer.datagramsLost,
      datagramsMisordered: peer.datagramsMisordered,
    };
  } finally {
    await bridge.stop();
    await stopProcess(cn);
  }
}

async function dialOut(): Promise<Record<string, unknown>> {
  if (!CANNELLONI || !existsSync(CANNELLONI)) return SKIPPED;
  resetVcan('vcan0');
  resetVcan('vcan1');
  let cn = startCannelloni(['-C', 's', '-l', String(CANNELLONI_TCP)]);
  const bridge = new Bridge(['--cannelloni-connect', `127.0.0.1:${CANNELLONI_TCP}`]);
  try {
    await bridge.waitEvent('client_connected', 1);
    await sleep(500);
    const before = [await crossing('vcan0', 'vcan1', 100, false), await crossing('vcan1', 'vcan0', 100, false)];
    const killedAt = Date.now();
    await stopProcess(cn, 'SIGKILL');
    await bridge.waitEvent('outbound_down', 1);
    await sleep(3000); // a few failed attempts while it is away: still one outbound_down line
    cn = startCannelloni(['-C', 's', '-l', String(CANNELLONI_TCP)]);
    const restartedAt = Date.now();
    await bridge.waitEvent('outbound_connected', 2);
    await bridge.waitEvent('client_connected', 2);
    const reconnectMs = Date.now() - restartedAt;
    await sleep(500);
    const after = [await crossing('vcan0', 'vcan1', 100, false), await crossing('vcan1', 'vcan0', 100, false)];
    const snap = await bridge.snapshot();
    const out = snap.outbound?.[0];
    check(out?.state === 'up' && out.connects === 2, `outbound: ${JSON.stringify(snap.outbound)}`);
    check(bridge.count('outbound_down') === 1, `outbound_down logged ${bridge.count('outbound_down')} times`);
    // The backoff reaches at most 4 s within the ~3 s away (1 s, 2 s, 4 s).
    check(reconnectMs < 8000, `reconnected ${reconnectMs} ms after the restart`);
    return { before, after, downMs: restartedAt - killedAt, reconnectMs, failures: out.failures };
  } finally {
    await bridge.stop();
    await stopProcess(cn);
  }
}

const only = process.argv.length > 2 ? new Set(process.argv.slice(2)) : undefined;
const ok = await runChecks(
  [
    ['cannelloni_udp', udpBothWays],
    ['cannelloni_dial_out', dialOut],
  ],
  only,
);
process.exit(ok ? 0 : 1);
