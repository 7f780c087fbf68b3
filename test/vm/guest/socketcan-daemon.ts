// Guest side of the VM suite, daemon level: the BUILT CLI (`ampio-bridge serve --backend
// socketcan --can-if vcan0,vcan1`) on real vcan interfaces, cannelloni clients written from
// the spec (test/support/cannelloni-client.ts), can-utils as independent peers, and the
// control socket for counters. Prints one `@@check {json}` line per check.
//
// Usage: node dist/test/vm/guest/socketcan-daemon.js [check-name ...]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../../src/control/control-client.js';
import type { BusSnapshot } from '../../../src/control/protocol.js';
import { encode, TestClient, type WireFrame } from '../../support/cannelloni-client.js';
import { tcpcanFrame, TcpcanTestClient } from '../../support/tcpcan-client.js';
import { Candump, canonical, check, equalLists, resetVcan, runChecks, sh, sleep } from './can-tools.js';
import { closeGvretClients, GVRET_CHECKS, GVRET_FLAGS } from './gvret-checks.js';
import { SOCKETCAND_CHECKS, SOCKETCAND_PORT } from './socketcand.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const PORT = [20000, 20001];
const TCPCAN_PORT = [20010, 20011];
const T = 30_000;
const TX_MAX_AGE_MS = 500;

const wireText = (f: WireFrame): string => {
  const ext = (f.id & 0x80000000) !== 0;
  if ((f.id & 0x40000000) !== 0) return canonical(f.id, ext, { rtr: true, len: f.len });
  return canonical(f.id, ext, { fd: f.fd, data: f.data });
};

/** `ampio-bridge serve` as systemd would run it, with JSON logs collected from stderr. */
class Daemon {
  readonly events: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly controlSocket: string;
  private stderrTail = '';

  constructor() {
    this.controlSocket = join(mkdtempSync(join(tmpdir(), 'ampio-vm-')), 'control.sock');
    this.child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/src/cli/main.js'),
        'serve',
        '--backend',
        'socketcan',
        '--can-if',
        'vcan0,vcan1',
        '--listen',
        `127.0.0.1:${PORT[0]}`,
        '--tcpcan-listen',
        `127.0.0.1:${TCPCAN_PORT[0]}`,
        '--socketcand-listen',
        `127.0.0.1:${SOCKETCAND_PORT}`,
        '--tx-max-age',
        `${TX_MAX_AGE_MS}ms`,
        // small enough for the kernel-drop burst below to overflow it (the default holds it)
        '--can-rcvbuf',
        '1M',
        // the VM is slow: give clients time to say hello
        '--handshake-timeout',
        '20s',
        '--log-format',
        'json',
        '--log-level',
        'debug',
        ...GVRET_FLAGS,
        '--control-socket',
        this.controlSocket,
      ],
      { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    let buf = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => {
      buf += d;
      this.stderrTail = (this.stderrTail + d).slice(-4000);
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

  count(event: string, bus?: string): number {
    return this.events.filter((e) => e.event === event && (bus === undefined || e.bus === bus)).length;
  }

  async waitEvent(event: string, bus: string | undefined, n: number, timeoutMs = T): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(event, bus) < n) {
      if (Date.now() > deadline) throw new Error(`daemon did not log ${event}${bus ? ` for ${bus}` : ''} (#${n}); stderr tail: ${this.stderrTail}`);
      await sleep(25);
    }
    return this.events.filter((e) => e.event === event && (bus === undefined || e.bus === bus))[n - 1];
  }

  async bus(name: string): Promise<BusSnapshot> {
    const c = await ControlClient.connect(this.controlSocket, { timeoutMs: 10_000 });
    try {
      const snap = await c.snapshot();
      const b = snap.buses.find((x) => x.name === name);
      if (!b) throw new Error(`no bus ${name} in the snapshot`);
      return b;
    } finally {
      c.close();
    }
  }

  async waitBus(name: string, cond: (b: BusSnapshot) => boolean, what: string, timeoutMs = T): Promise<BusSnapshot> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = await this.bus(name);
      if (cond(b)) return b;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(b)}`);
      await sleep(100);
    }
  }

  async stop(): Promise<{ code: number | null; ms: number }> {
    const t0 = performance.now();
    this.child.kill('SIGTERM');
    const code = await this.exited;
    return { code, ms: performance.now() - t0 };
  }
}

let daemon: Daemon;
const clients: TestClient[] = [];

async function client(bus: 0 | 1): Promise<TestClient> {
  const c = await TestClient.connect(PORT[bus]);
  clients.push(c);
  return c;
}

const tcpcanClients: TcpcanTestClient[] = [];

async function tcpcanClient(bus: 0 | 1): Promise<TcpcanTestClient> {
  const c = await TcpcanTestClient.connect(TCPCAN_PORT[bus]);
  tcpcanClients.push(c);
  return c;
}

function closeClients(): void {
  for (const c of clients.splice(0)) c.destroy();
  for (const c of tcpcanClients.splice(0)) c.destroy();
}

async function busToClients() {
  const a = await client(0);
  const b = await client(0);
  const other = await client(1);
  const dump = await Candump.start('vcan0');
  const cases = ['123#DEADBEEF', '1ABCDEF0#0102030405060708', '7FF#', '123#R', '456#R3', `321##1${'11'.repeat(12)}`, `1ABCDEF0##0${'A5'.repeat(64)}`];
  for (const c of cases) sh(`cansend vcan0 '${c}'`);
  sh('cangen vcan0 -e -I 1E5A -L 8 -D i -g 1 -n 100');
  const total = cases.length + 100;
  const seen = (await dump.waitFor(total, T)).map((l) => l.text);
  await dump.stop();
  await a.waitForFrames(total, T);
  await b.waitForFrames(total, T);
  await sleep(300);
  equalLists(a.frames.map(wireText), seen, 'client A vs candump');
  equalLists(b.frames.map(wireText), seen, 'client B vs candump');
  check(other.frames.length === 0, `the vcan1 client got ${other.frames.length} vcan0 frames`);
  check(a.frames[5].fd && a.frames[5].len === 12 && a.frames[6].len === 64, 'FD frames carried as FD');
  check(a.frames[4].len === 3 && a.frames[4].data.length === 0, 'RTR with DLC 3, no data');
  closeClients();
  return { frames: total, clients: 2 };
}

async function clientsToBus() {
  const a = await client(0);
  const b = await client(0);
  const other = await client(1);
  const dump = await Candump.start('vcan0');
  const frames = [
    encode({ id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] }),
    encode({ id: 0x9abcdef0, data: [1, 2, 3, 4, 5, 6, 7, 8] }), // EFF 0x1ABCDEF0
    encode({ id: 0x7ff, data: [] }),
    encode({ id: 0x456, rtr: true, len: 3 }),
    encode({ id: 0x321, fd: true, flags: 0x01, data: new Array(12).fill(0x11) }),
    encode({ id: 0x80001e5a, fd: true, flags: 0, data: new Array(64).fill(0xa5) }),
  ];
  const expected = ['123#DEADBEEF', '1ABCDEF0#0102030405060708', '7FF#', '456#R3', `321##${'11'.repeat(12)}`, `00001E5A##${'A5'.repeat(64)}`];
  a.send(...frames);
  const seen = await dump.waitFor(frames.length, T);
  await dump.stop();
  equalLists(
    seen.map((l) => l.text),
    expected,
    'candump vs what the client sent',
  );
  check(((seen[4].fdFlags ?? 0) & 1) === 1 && ((seen[5].fdFlags ?? 0) & 1) === 0, 'BRS carried to the bus');
  await b.waitForFrames(frames.length, T);
  await sleep(300);
  equalLists(b.frames.map(wireText), expected, 'echo to the other client');
  check(a.frames.length === 0, `the sender got ${a.frames.length} of its own frames back`);
  check(other.frames.length === 0, 'nothing on the other bus');
  closeClients();
  return { frames: frames.length };
}

async function twoChannels() {
  const x = [await client(0), await client(1)];
  const y = [await client(0), await client(1)];
  const dumps = [await Candump.start('vcan0'), await Candump.start('vcan1')];
  for (let i = 0; i < 50; i++) {
    x[0].send(encode({ id: 0x500, data: [i] }));
    x[1].send(encode({ id: 0x600, data: [i] }));
  }
  sh('cangen vcan0 -I 100 -L 2 -D i -g 2 -n 50 & cangen vcan1 -I 200 -L 2 -D i -g 2 -n 50 & wait');
  const seen = [await dumps[0].waitFor(100, T), await dumps[1].waitFor(100, T)];
  for (const d of dumps) await d.stop();
  await y[0].waitForFrames(100, T);
  await y[1].waitForFrames(100, T);
  await sleep(300);
  for (const bus of [0, 1] as const) {
    const mine = bus === 0 ? '500#' : '600#';
    const gen = bus === 0 ? '100#' : '200#';
    const got = y[bus].frames.map(wireText);
    const onBus = seen[bus].map((l) => l.text);
    check(got.length === 100 && onBus.length === 100, `bus ${bus}: ${got.length} to the listener, ${onBus.length} on the bus`);
    // Within each source the order is the bus order; the two sources interleave freely.
    equalLists(
      got.filter((t) => t.startsWith(gen)),
      onBus.filter((t) => t.startsWith(gen)),
      `bus ${bus} cangen frames`,
    );
    equalLists(
      got.filter((t) => t.startsWith(mine)),
      onBus.filter((t) => t.startsWith(mine)),
      `bus ${bus} client frames`,
    );
    check(!onBus.some((t) => t.startsWith(bus === 0 ? '600#' : '500#') || t.startsWith(bus === 0 ? '200#' : '100#')), `bus ${bus}: cross-talk`);
  }
  closeClients();
  return { perBus: 100 };
}

async function linkFaults() {
  const a = await client(0);
  const b = await client(0);
  const c = await client(1);
  const measured: Record<string, number> = {};

  // ---- link down / up
  const absent0 = daemon.count('backend_absent', 'vcan0');
  const reopened0 = daemon.count('backend_reopened', 'vcan0');
  sh('ip link set vcan0 down');
  await daemon.waitEvent('backend_absent', 'vcan0', absent0 + 1);
  const before = (await daemon.bus('vcan0')).txDrops.link_down ?? 0;
  for (let i = 0; i < 5; i++) a.send(encode({ id: 0x700, data: [i] }));
  sh("cansend vcan1 '2A1#01'"); // the other bus keeps working meanwhile
  await c.waitForFrames(1, T);
  await sleep(500);
  const dropped = ((await daemon.bus('vcan0')).txDrops.link_down ?? 0) - before;
  check(dropped === 5, `5 frames dropped as link_down while down, got ${dropped}`);
  let t0 = performance.now();
  sh('ip link set vcan0 up');
  await daemon.waitEvent('backend_reopened', 'vcan0', reopened0 + 1);
  measured.upToReopenedMs = Math.round(performance.now() - t0);
  check(!a.closed && !b.closed && !c.closed, 'clients stayed connected through down/up');
  sh("cansend vcan0 '0A1#01'");
  await a.waitForFrames(1, T);
  await b.waitForFrames(1, T);
  check(
    b.frames.every((f) => f.id !== 0x700),
    'nothing sent while down was replayed',
  );

  // ---- delete and re-create
  sh('ip link del vcan0');
  await daemon.waitEvent('backend_absent', 'vcan0', absent0 + 2);
  // first `down` (the socket died), then `absent` once the link poll sees no interface
  await daemon.waitBus('vcan0', (b) => b.busState === 'absent', 'bus state absent after delete');
  await sleep(1000);
  t0 = performance.now();
  sh('ip link add dev vcan0 type vcan && ip link set vcan0 mtu 72 up');
  await daemon.waitEvent('backend_reopened', 'vcan0', reopened0 + 2);
  measured.recreateToReopenedMs = Math.round(performance.now() - t0);
  check(!a.closed && !b.closed && !c.closed, 'clients stayed connected through delete/re-create');
  const dump = await Candump.start('vcan0');
  sh("cansend vcan0 '0A2#02'");
  a.send(encode({ id: 0x0a3, data: [3] }));
  await dump.waitFor(2, T);
  await dump.stop();
  await b.waitForFrames(3, T); // 0A1, 0A2, and A's 0A3 echoed
  await a.waitForFrames(2, T);
  const snap = await daemon.bus('vcan0');
  check(
    snap.reopens === 2 && snap.backendState === 'open' && snap.busState === 'error-active',
    `snapshot ${JSON.stringify({ r: snap.reopens, s: snap.backendState, b: snap.busState })}`,
  );
  closeClients();
  return { ...measured, linkDownDrops: dropped, reopens: snap.reopens };
}

async function fdToClassic() {
  const c = await client(1);
  const n = daemon.count('backend_reopened', 'vcan1');
  sh('ip link set vcan1 down && ip link set vcan1 mtu 16 && ip link set vcan1 up');
  await daemon.waitEvent('backend_reopened', 'vcan1', n + 1);
  const dump = await Candump.start('vcan1');
  c.send(encode({ id: 0x123, fd: true, flags: 1, data: new Array(16).fill(7) }), encode({ id: 0x124, data: [1, 2] }));
  const seen = await dump.waitFor(1, T);
  await sleep(500);
  await dump.stop();
  equalLists(
    seen.map((l) => l.text),
    ['124#0102'],
    'only the classic frame reaches a classic bus',
  );
  const snap = await daemon.bus('vcan1');
  check((snap.txDrops.fd_unsupported ?? 0) === 1, `fd_unsupported counted: ${JSON.stringify(snap.txDrops)}`);
  check(!c.closed && !snap.fd, 'the client stays connected; the bus reports no FD');
  sh('ip link set vcan1 down && ip link set vcan1 mtu 72 && ip link set vcan1 up');
  await daemon.waitEvent('backend_reopened', 'vcan1', n + 2);
  closeClients();
  return { fdUnsupported: 1 };
}

async function tbfStaleness() {
  sh('tc qdisc add dev vcan0 root tbf rate 50kbit burst 64 limit 320');
  const a = await client(0);
  const b = await client(0);
  const dump = await Candump.start('vcan0');
  const before = await daemon.bus('vcan0');
  const total = 400;
  const burst: Buffer[] = [];
  for (let i = 0; i < total; i++) burst.push(encode({ id: 0x80001e5a, data: [i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0] }));
  a.send(...burst);
  // done when every frame is accounted for: on the bus or dropped
  const deadline = Date.now() + T;
  let snap = await daemon.bus('vcan0');
  while (snap.txFrames - before.txFrames + ((snap.txDrops.stale ?? 0) - (before.txDrops.stale ?? 0)) < total) {
    if (Date.now() > deadline) throw new Error(`not all frames accounted for: ${JSON.stringify(snap.txDrops)} tx ${snap.txFrames}`);
    await sleep(200);
    snap = await daemon.bus('vcan0');
  }
  await sleep(1500);
  const seen = await dump.stop();
  sh('tc qdisc del dev vcan0 root');
  const stale = (snap.txDrops.stale ?? 0) - (before.txDrops.stale ?? 0);
  const sent = snap.txFrames - before.txFrames;
  const onBus = seen.map((l) => l.text);
  check(onBus.length === sent, `candump saw ${onBus.length}, the daemon reports ${sent} written`);
  check(sent + stale === total && stale > 0, `sent ${sent} + stale ${stale} = ${total}`);
  // The bridge echoes a frame once the kernel confirms it left (MSG_CONFIRM on its own
  // socket). With a tbf qdisc, vcan's echo=1 loopback runs from whichever CPU dequeues (the
  // sender, or tbf's watchdog softirq) and netif_rx queues each frame on that CPU's backlog,
  // so on a 2-CPU guest two neighbouring confirmations (and candump's copies) can arrive
  // swapped although the frames left the qdisc in order. The bridge writes strictly in
  // order (TxQueue is a FIFO with one writer, unit-tested); here: no duplicates, and each
  // frame at most 2 places from its send position (a swap of neighbours, never a replay).
  await b.waitForFrames(sent, T);
  const echoed = b.frames.map(wireText);
  const seqOf = (text: string): number => Number.parseInt(text.split('#')[1].slice(0, 4), 16);
  const writeOrder = echoed.map(seqOf);
  const sorted = [...writeOrder].sort((x, y) => x - y);
  check(new Set(writeOrder).size === writeOrder.length, 'no frame echoed twice');
  const displaced = writeOrder.map((seq, k) => Math.abs(sorted.indexOf(seq) - k));
  check(
    displaced.every((d) => d <= 2),
    `echo order far from send order: ${writeOrder.join(',')}`,
  );
  check(new Set(onBus).size === onBus.length, 'no frame reached the bus twice');
  equalLists([...onBus].sort(), [...echoed].sort(), 'what reached the bus = what was echoed to the other client');
  check(snap.staleDrops - before.staleDrops === stale, 'staleDrops in the snapshot');
  closeClients();
  return { sent: total, onBus: sent, stale, txMaxAgeMs: TX_MAX_AGE_MS };
}

/**
 * tcpcan next to cannelloni on the real kernel: SocketCAN frames (classic, EFF, RTR, FD on
 * the MTU 72 vcan) reach a tcpcan client as candump saw them; frames a tcpcan client sends
 * (FD with BRS included) reach the bus and the cannelloni client, and the reverse.
 */
async function tcpcanBothWays() {
  const t = await tcpcanClient(0);
  const k = await client(0);
  const other = await tcpcanClient(1);
  check(t.versions.length === 1 && t.versions[0] === 1, `tcpcan version answer ${JSON.stringify(t.versions)}`);
  let dump = await Candump.start('vcan0');
  const cases = ['123#DEADBEEF', '1ABCDEF0#0102030405060708', '7FF#', '456#R3', `321##1${'11'.repeat(12)}`, `1ABCDEF0##0${'A5'.repeat(64)}`];
  for (const c of cases) sh(`cansend vcan0 '${c}'`);
  const seen = (await dump.waitFor(cases.length, T)).map((l) => l.text);
  await dump.stop();
  await t.waitForFrames(cases.length, T);
  equalLists(t.frames.map(wireText), seen, 'tcpcan client vs candump');
  check(t.frames[4].fd && t.frames[4].len === 12 && t.frames[5].fd && t.frames[5].len === 64, 'FD frames carried as FD');
  check(t.frames[3].len === 3 && t.frames[3].data.length === 0, 'RTR with DLC 3, no data');
  check(t.protocolError === null, `tcpcan stream: ${t.protocolError}`);

  dump = await Candump.start('vcan0');
  const fromTcpcan = [
    tcpcanFrame({ id: 0x124, data: [1, 2, 3] }),
    tcpcanFrame({ id: 0x9abcdef1, data: [4, 5] }), // EFF 0x1ABCDEF1
    tcpcanFrame({ id: 0x457, rtr: true, len: 2 }),
    tcpcanFrame({ id: 0x322, fd: true, flags: 0x01, data: new Array(16).fill(0x22) }),
  ];
  const expected = ['124#010203', '1ABCDEF1#0405', '457#R2', `322##${'22'.repeat(16)}`];
  t.send(...fromTcpcan);
  const onBus = await dump.waitFor(fromTcpcan.length, T);
  await dump.stop();
  equalLists(
    onBus.map((l) => l.text),
    expected,
    'candump vs what the tcpcan client sent',
  );
  check(((onBus[3].fdFlags ?? 0) & 1) === 1, 'BRS carried to the bus');
  await k.waitForFrames(cases.length + fromTcpcan.length, T);
  equalLists(k.frames.slice(cases.length).map(wireText), expected, 'echo from tcpcan to the cannelloni client');

  k.send(encode({ id: 0x125, data: [9] }));
  await t.waitForFrames(cases.length + 1, T);
  equalLists(t.frames.slice(cases.length).map(wireText), ['125#09'], 'echo from cannelloni to tcpcan (never its own frames)');
  await sleep(300);
  check(other.frames.length === 0, `the vcan1 tcpcan client got ${other.frames.length} vcan0 frames`);
  closeClients();
  return { toTcpcan: cases.length, fromTcpcan: fromTcpcan.length };
}

/**
 * A burst the bridge cannot read: the daemon is stopped (SIGSTOP) while cangen sends, so
 * its receive buffer overflows. Every frame is accounted for: read or counted as a kernel drop.
 */
async function kernelDrops() {
  const before = await daemon.bus('vcan0');
  const n = 8000;
  daemon.child.kill('SIGSTOP');
  try {
    sh(`cangen vcan0 -g 0 -n ${n} -I 1E5 -L 8 -D i`);
  } finally {
    daemon.child.kill('SIGCONT');
  }
  await sleep(1000);
  sh("cansend vcan0 '7FF#FF'");
  await daemon.waitBus(
    'vcan0',
    (b) => b.rxFrames - before.rxFrames + ((b.rxKernelDrops ?? 0) - (before.rxKernelDrops ?? 0)) >= n + 1,
    'every frame read or counted',
  );
  await sleep(500);
  const snap = await daemon.bus('vcan0');
  const read = snap.rxFrames - before.rxFrames;
  const drops = (snap.rxKernelDrops ?? 0) - (before.rxKernelDrops ?? 0);
  check(drops > 0, `the burst did not overflow the receive buffer (read ${read})`);
  check(read + drops === n + 1, `rx_frames ${read} + kernel drops ${drops} = ${read + drops}, sent ${n + 1}`);
  check(daemon.count('can_rx_kernel_drops') >= 1, 'a kernel-drop warning was logged');
  return { sent: n + 1, read, kernelDrops: drops };
}

/**
 * Frames the kernel received while the daemon was stopped for longer than --client-max-lag
 * (2 s) reach no client once it runs again (a capture would still get them); a frame sent
 * after that does. Counted as rxReadLate and warned.
 */
async function readLate() {
  const c = await client(0);
  const before = await daemon.bus('vcan0');
  daemon.child.kill('SIGSTOP');
  try {
    for (let i = 0; i < 5; i++) sh(`cansend vcan0 '3A${i}#0${i}'`);
    await sleep(2600);
  } finally {
    daemon.child.kill('SIGCONT');
  }
  await daemon.waitBus('vcan0', (b) => b.rxFrames - before.rxFrames >= 5, 'the five late frames read', T);
  sh("cansend vcan0 '3AF#0F'");
  await c.waitForFrames(1, T);
  await sleep(300);
  const snap = await daemon.bus('vcan0');
  const got = c.frames.map((f) => f.id.toString(16));
  closeClients();
  const late = (snap.rxReadLate ?? 0) - (before.rxReadLate ?? 0);
  check(got.length === 1 && got[0] === '3af', `the client got ${got.join(',')}, not only the fresh 3af`);
  check(late === 5, `rxReadLate went up by ${late}, not 5`);
  check(daemon.count('can_rx_read_late') >= 1, 'no can_rx_read_late warning');
  return { late, clientGot: got };
}

/**
 * TX confirmation on a 50 kbit/s bus (tbf): a client's frame reaches the other client only
 * after it left the qdisc, never when it merely entered it.
 */
async function txConfirmTiming() {
  sh('tc qdisc add dev vcan0 root tbf rate 50kbit burst 64 limit 320');
  const a = await client(0);
  const b = await client(0);
  const arrivals: number[] = [];
  b.socket.on('data', () => {
    const now = performance.timeOrigin + performance.now();
    while (arrivals.length < b.frames.length) arrivals.push(now);
  });
  const dump = await Candump.start('vcan0');
  const total = 20;
  const burst: Buffer[] = [];
  for (let i = 0; i < total; i++) burst.push(encode({ id: 0x80001e5b, data: [i, 0, 0, 0, 0, 0, 0, 0] }));
  const sentAt = performance.timeOrigin + performance.now();
  a.send(...burst);
  await b.waitForFrames(total, T);
  await sleep(300);
  const seen = await dump.stop();
  sh('tc qdisc del dev vcan0 root');
  const onBus = new Map(seen.map((l) => [l.text, l.tsUs / 1000]));
  // ms by which an echo preceded the frame leaving the qdisc (≤ 0 is right)
  const early = b.frames.map((f, i) => (onBus.get(wireText(f)) ?? Number.NaN) - arrivals[i]);
  check(
    early.every((d) => d <= 0.001),
    `echoes before the frame left the qdisc, ms: ${early.map((d) => d.toFixed(2)).join(',')}`,
  );
  const busSpanMs = (seen.at(-1)!.tsUs - seen[0].tsUs) / 1000;
  check(busSpanMs > 25, `the qdisc did not pace the frames (${busSpanMs.toFixed(1)} ms for 20)`);
  closeClients();
  return {
    frames: total,
    busSpanMs: Math.round(busSpanMs),
    lastEchoAfterSendMs: Math.round(arrivals.at(-1)! - sentAt),
    maxEchoAfterBusMs: Math.round(Math.max(...early.map((d) => -d))),
  };
}

const CHECKS: [string, () => Promise<Record<string, unknown>>][] = [
  ['daemon_bus_to_clients', busToClients],
  ['daemon_clients_to_bus', clientsToBus],
  ['daemon_two_channels', twoChannels],
  ['daemon_link_faults', linkFaults],
  ['daemon_fd_to_classic', fdToClassic],
  ['daemon_tbf_staleness', tbfStaleness],
  ['daemon_tcpcan', tcpcanBothWays],
  ['daemon_kernel_drops', kernelDrops],
  ['daemon_read_late', readLate],
  ['daemon_tx_confirm_timing', txConfirmTiming],
  ...SOCKETCAND_CHECKS,
];

async function main(): Promise<void> {
  const only = process.argv.length > 2 ? new Set(process.argv.slice(2)) : undefined;
  resetVcan('vcan0');
  resetVcan('vcan1');
  const t0 = performance.now();
  daemon = new Daemon();
  const ready = await daemon.waitEvent('ready', undefined, 1, 120_000).then(
    () => true,
    (e: Error) => e,
  );
  const startMs = Math.round(performance.now() - t0);
  let ok = await runChecks([
    [
      'daemon_start',
      async () => {
        if (ready !== true) throw ready;
        await daemon.waitEvent('socketcan_open', 'vcan0', 1);
        await daemon.waitEvent('socketcan_open', 'vcan1', 1);
        const s = await daemon.bus('vcan1');
        check(s.backendState === 'open' && s.fd, 'vcan1 open with FD');
        return { startMs, listen: PORT };
      },
    ],
  ]);
  if (ready === true) {
    // GVRET (issue 12) on the same daemon: its clients stay connected across its checks.
    try {
      ok = (await runChecks(GVRET_CHECKS, only)) && ok;
    } finally {
      closeGvretClients();
      resetVcan('vcan0');
      resetVcan('vcan1');
    }
    ok =
      (await runChecks(
        CHECKS.map(([name, fn]) => [
          name,
          async () => {
            try {
              return await fn();
            } finally {
              closeClients();
              resetVcan('vcan0');
              resetVcan('vcan1');
            }
          },
        ]),
        only,
      )) && ok;
  }
  ok =
    (await runChecks([
      [
        'daemon_shutdown',
        async () => {
          const { code, ms } = await daemon.stop();
          check(code === 0, `serve exited with ${code}`);
          check(daemon.count('shutdown_summary') === 1, 'shutdown_summary logged');
          return { exitCode: code, stopMs: Math.round(ms) };
        },
      ],
    ])) && ok;
  process.exit(ok ? 0 : 1);
}

await main();
