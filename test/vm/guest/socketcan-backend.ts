// Guest side of the VM suite, backend level: drives src/backends/socketcan/backend.ts (and
// its addon directly, for errno and fd checks) against real vcan interfaces, with
// can-utils as independent peers, and through the faults of issue 3. Prints one `@@check {json}` line per check (test/vm/socketcan.vm.test.ts
// asserts them). Needs vcan0 and vcan1 up with MTU 72 (CANVM_VCAN_MTU=72) and root.
//
// Usage: node dist/test/vm/guest/socketcan-backend.js [check-name ...]
import { createSocketCanBackend, type SocketCanBackend, type SocketCanBackendOptions } from '../../../src/backends/socketcan/backend.js';
import { errnoName, loadCanBinding, RECORD_SIZE } from '../../../src/backends/socketcan/binding.js';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, type CanFrame, makeFrame } from '../../../src/core/frame.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { Candump, canonical, check, equalLists, resetVcan, runChecks, sh, sleep } from './can-tools.js';
import { originOf } from '../../support/origin.js';

const T = 20_000; // generous: node runs ~18x slower under TCG

const wall = () => performance.timeOrigin + performance.now();

interface Bus {
  b: SocketCanBackend;
  sink: RecordingSink;
}

const running: SocketCanBackend[] = [];

async function open(ifname: string, over: Partial<SocketCanBackendOptions> = {}, waitOpen = true): Promise<Bus> {
  const sink = new RecordingSink();
  const b = createSocketCanBackend({
    ifname,
    bitrate: 50000,
    txQueueSize: 1024,
    txMaxAge: 2000,
    now: () => performance.now(),
    wallClock: wall,
    ...over,
  });
  running.push(b);
  await b.start(sink);
  if (waitOpen) await sink.waitFor(() => sink.state?.backend === 'open', `${ifname} open`, T);
  return { b, sink };
}

async function closeAll(): Promise<void> {
  for (const b of running.splice(0)) await b.stop();
}

const frameText = (f: CanFrame) => canonical(f.id, (f.id & CAN_EFF_FLAG) !== 0, { rtr: (f.id & CAN_RTR_FLAG) !== 0, len: f.len, fd: f.fd, data: f.data });

const isOpen = (s: RecordingSink) => s.state?.backend === 'open';

/** Frames as cansend writes them, and what each must look like once received. */
const RX_CASES: string[] = [
  '123#DEADBEEF',
  '1ABCDEF0#0102030405060708',
  '7FF#',
  '00000001#11',
  '123#R',
  '456#R3',
  `321##1${'11'.repeat(12)}`,
  `1ABCDEF0##0${'A5'.repeat(64)}`,
  '000#00',
];

async function rxFrames() {
  const { sink } = await open('vcan0');
  const dump = await Candump.start('vcan0');
  for (const c of RX_CASES) sh(`cansend vcan0 '${c}'`);
  await sink.waitFor(() => sink.rx.length >= RX_CASES.length, 'all frames', T);
  const seen = await dump.waitFor(RX_CASES.length, T);
  await dump.stop();
  const got = sink.rx.map((r) => frameText(r.frame));
  equalLists(
    got,
    seen.map((l) => l.text),
    'backend vs candump (bus → bridge)',
  );
  check(sink.rx[6].frame.fd && sink.rx[7].frame.fd && !sink.rx[0].frame.fd, 'FD frames marked fd, classic not');
  check(sink.rx[5].frame.len === 3 && sink.rx[5].frame.data.length === 0, 'RTR keeps its DLC, no data');
  // Kernel receive timestamps (SO_TIMESTAMPNS, on from the socket's start): the same skb
  // time candump reads, to the microsecond, the first frame included.
  const tsDiffUs = sink.rx.map((r, i) => Math.round(r.frame.timestamp * 1000) - seen[i].tsUs);
  check(
    tsDiffUs.every((d) => Math.abs(d) <= 1),
    `kernel timestamps differ from candump's: ${tsDiffUs.join(',')}`,
  );
  await closeAll();
  return { frames: got.length, candump: seen.length, tsDiffUs };
}

/**
 * How long a frame waited in the kernel's queue (read time minus SO_TIMESTAMPNS), which the
 * bus uses to keep frames read later than --client-max-lag from clients: a frame sent while
 * the bridge's loop is blocked reports about the time it was blocked; one read at once, ~0.
 */
async function readWait() {
  const { sink } = await open('vcan0');
  sh("cansend vcan0 '101#01'");
  await sink.waitFor(() => sink.rx.length >= 1, 'the first frame', T);
  // The frame is sent while this process cannot read: its wait is the rest of the block.
  spawn('sh', ['-c', "sleep 0.3; cansend vcan0 '102#02'"], { stdio: 'ignore' });
  const blockMs = 2500;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
  await sink.waitFor(() => sink.rx.length >= 2, 'the frame sent while blocked', T);
  const [prompt, blocked] = sink.rx.map((r) => Math.round(r.waitedMs ?? -1));
  await closeAll();
  // Under emulation a process start (sh, sleep, cansend) takes up to a second or so.
  check(prompt >= 0 && prompt < 500, `a frame read at once waited ${prompt} ms`);
  check(blocked >= 500 && blocked <= blockMs, `a frame sent during a ${blockMs} ms block waited ${blocked} ms`);
  return { promptMs: prompt, blockedMs: blocked, blockMs };
}

async function txFrames() {
  const { b, sink } = await open('vcan0');
  const dump = await Candump.start('vcan0');
  const frames: CanFrame[] = [
    makeFrame({ id: 0x123, extended: false, data: [0xde, 0xad, 0xbe, 0xef] }),
    makeFrame({ id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] }),
    makeFrame({ id: 0x7ff, extended: false, data: [] }),
    makeFrame({ id: 0x456, extended: false, rtr: true, len: 3 }),
    makeFrame({ id: 0x1e5a, extended: true, rtr: true, len: 8 }),
    makeFrame({ id: 0x321, extended: false, fd: true, fdFlags: CANFD_BRS, data: new Array(12).fill(0x11) }),
    makeFrame({ id: 0x1abcdef0, extended: true, fd: true, fdFlags: 0, data: new Array(64).fill(0xa5) }),
    makeFrame({ id: 0x10, extended: false, fd: true, fdFlags: CANFD_BRS, data: [1, 2] }),
  ];
  for (const [i, f] of frames.entries()) check(b.send(f, originOf(10 + i)).ok, `send ${i} accepted`);
  await sink.waitFor(() => sink.tx.length === frames.length, 'transmitted', T);
  const seen = await dump.waitFor(frames.length, T);
  await dump.stop();
  equalLists(
    seen.map((l) => l.text),
    frames.map(frameText),
    'candump vs sent (bridge → bus)',
  );
  check(sink.tx.map((t) => t.origin.session).join() === frames.map((_, i) => 10 + i).join(), 'origins reported in order');
  check(((seen[5].fdFlags ?? 0) & CANFD_BRS) !== 0 && ((seen[6].fdFlags ?? 0) & CANFD_BRS) === 0, `BRS flag carried: ${seen[5].fdFlags}/${seen[6].fdFlags}`);
  check(b.send({ ...makeFrame({ id: 1 }), len: 9, data: new Uint8Array(9) }, originOf(1)).ok === false, 'a 9-byte classic frame is refused');
  await closeAll();
  return { frames: frames.length };
}

async function twoChannels() {
  const c0 = await open('vcan0');
  const c1 = await open('vcan1');
  const d0 = await Candump.start('vcan0');
  const d1 = await Candump.start('vcan1');
  // both buses busy at once: cangen on each, and the bridge sending on each
  sh('cangen vcan0 -I 100 -L 8 -D i -g 2 -n 60 & cangen vcan1 -e -I 12345678 -L 4 -D i -g 2 -n 60 & wait');
  for (let i = 0; i < 20; i++) {
    c0.b.send(makeFrame({ id: 0x500, extended: false, data: [i] }), originOf(1));
    c1.b.send(makeFrame({ id: 0x600, extended: false, data: [i] }), originOf(2));
  }
  await c0.sink.waitFor(() => c0.sink.rx.length >= 60 && c0.sink.tx.length === 20, 'vcan0 traffic', T);
  await c1.sink.waitFor(() => c1.sink.rx.length >= 60 && c1.sink.tx.length === 20, 'vcan1 traffic', T);
  const s0 = await d0.waitFor(80, T);
  const s1 = await d1.waitFor(80, T);
  await sleep(200);
  await d0.stop();
  await d1.stop();
  const rx0 = c0.sink.rx.map((r) => frameText(r.frame));
  const rx1 = c1.sink.rx.map((r) => frameText(r.frame));
  // each backend received exactly its bus's cangen frames (its own TX comes back only as a
  // transmit confirmation, never as a received frame)
  equalLists(
    rx0,
    s0.filter((l) => l.text.startsWith('100#')).map((l) => l.text),
    'vcan0 backend vs candump',
  );
  equalLists(
    rx1,
    s1.filter((l) => l.text.startsWith('12345678#')).map((l) => l.text),
    'vcan1 backend vs candump',
  );
  equalLists(
    s0.filter((l) => l.text.startsWith('500#')).map((l) => l.text),
    c0.sink.tx.map((t) => frameText(t.frame)),
    'vcan0 TX',
  );
  equalLists(
    s1.filter((l) => l.text.startsWith('600#')).map((l) => l.text),
    c1.sink.tx.map((t) => frameText(t.frame)),
    'vcan1 TX',
  );
  check(!s0.some((l) => l.text.startsWith('600#')) && !s1.some((l) => l.text.startsWith('500#')), 'no cross-talk');
  await closeAll();
  return { vcan0: { rx: rx0.length, tx: 20 }, vcan1: { rx: rx1.length, tx: 20 } };
}

async function fdOnClassic() {
  const { b, sink } = await open('vcan1');
  check(b.info.fd, 'vcan1 with MTU 72 is FD');
  const t0 = performance.now();
  sh('ip link set vcan1 down && ip link set vcan1 mtu 16 && ip link set vcan1 up');
  await sink.waitFor(() => sink.states.some((s) => s.backend === 'absent') && isOpen(sink) && !b.info.fd, 'reopen as classic', T);
  const reopenMs = sink.state!.at - t0;
  const fd = makeFrame({ id: 0x123, extended: false, fd: true, data: new Array(16).fill(1) });
  const r = b.send(fd, originOf(1));
  check(!r.ok && r.reason === 'fd_unsupported', `FD to a classic interface refused: ${JSON.stringify(r)}`);
  const dump = await Candump.start('vcan1');
  check(b.send(makeFrame({ id: 0x124, extended: false, data: [1] }), originOf(1)).ok, 'classic still accepted');
  await dump.waitFor(1, T);
  await dump.stop();
  check(b.stats().tx.dropped.fd_unsupported === 1, 'fd_unsupported counted');
  sh('ip link set vcan1 down && ip link set vcan1 mtu 72 && ip link set vcan1 up');
  await sink.waitFor(() => isOpen(sink) && b.info.fd, 'reopen as FD', T);
  await closeAll();
  return { mtuChangeReopenMs: Math.round(reopenMs), reopens: b.counters().reopens };
}

async function linkDownUp() {
  const { b, sink } = await open('vcan0');
  const tDown = performance.now();
  sh('ip link set vcan0 down');
  await sink.waitFor(() => sink.state?.backend === 'absent', 'absent on link down', T);
  const detectMs = sink.state!.at - tDown;
  check(sink.state!.bus === 'down', `bus state down, got ${sink.state!.bus}`);
  const r = b.send(makeFrame({ id: 0x1 }), originOf(1));
  check(!r.ok && r.reason === 'link_down', 'TX refused as link_down while down');
  await sleep(500);
  const tUp = performance.now();
  sh('ip link set vcan0 up');
  await sink.waitFor(() => isOpen(sink), 'reopened after up', T);
  const reopenMs = sink.state!.at - tUp;
  sh("cansend vcan0 '0AB#01'");
  await sink.waitFor(() => sink.rx.length === 1, 'a frame after up', T);
  const dump = await Candump.start('vcan0');
  check(b.send(makeFrame({ id: 0xac, extended: false, data: [2] }), originOf(1)).ok, 'TX accepted after up');
  const seen = await dump.waitFor(1, T);
  await dump.stop();
  check(seen[0].text === '0AC#02', `TX after up reached the bus: ${seen[0].text}`);
  check(b.counters().reopens === 1, 'one reopen');
  await closeAll();
  return { downDetectedMs: Math.round(detectMs), upToOpenMs: Math.round(reopenMs), busStateWhileDown: 'down' };
}

async function deleteRecreate() {
  const { b, sink } = await open('vcan0');
  const tDel = performance.now();
  sh('ip link del vcan0');
  await sink.waitFor(() => sink.state?.backend === 'absent', 'absent on delete', T);
  const detectMs = sink.state!.at - tDel;
  await sink.waitFor(() => sink.state?.bus === 'absent', 'bus absent after delete', T);
  await sleep(500);
  const tAdd = performance.now();
  sh('ip link add dev vcan0 type vcan && ip link set vcan0 mtu 72 up');
  await sink.waitFor(() => isOpen(sink), 'reopened after re-create', T);
  const reopenMs = sink.state!.at - tAdd;
  sh("cansend vcan0 '0AB#0102'");
  await sink.waitFor(() => sink.rx.length === 1, 'a frame on the new interface', T);
  check(b.counters().reopens === 1, 'one reopen');
  await closeAll();
  return { deleteDetectedMs: Math.round(detectMs), recreateToOpenMs: Math.round(reopenMs) };
}

async function absentAtStart() {
  sh('ip link del vcan7 2>/dev/null || true');
  const { b, sink } = await open('vcan7', {}, false);
  check(sink.state?.backend === 'absent' && sink.state.bus === 'absent', `absent at start: ${JSON.stringify(sink.state)}`);
  const r = b.send(makeFrame({ id: 1 }), originOf(1));
  check(!r.ok && r.reason === 'link_down', 'TX refused while absent');
  await sleep(1000);
  const tAdd = performance.now();
  sh('ip link add dev vcan7 type vcan && ip link set vcan7 mtu 16 up');
  await sink.waitFor(() => isOpen(sink), 'open once it exists', T);
  const ms = sink.state!.at - tAdd;
  check(!b.info.fd, 'MTU 16 vcan is classic');
  sh("cansend vcan7 '123#01'");
  await sink.waitFor(() => sink.rx.length === 1, 'a frame', T);
  await closeAll();
  sh('ip link del vcan7');
  return { appearToOpenMs: Math.round(ms) };
}

async function errorFrames() {
  const { b, sink } = await open('vcan0');
  const states: string[] = [];
  const note = () => states.push(sink.state!.bus);
  // cansend writes 8-digit ids as EFF; the error class bits and ERR flag survive, which is
  // what a controller's error frame carries (linux/can/error.h).
  sh("cansend vcan0 '20000004#0020000000000000'"); // CRTL, TX_PASSIVE
  await sink.waitFor(() => sink.state?.bus === 'error-passive', 'error-passive', T);
  note();
  sh("cansend vcan0 '20000040#0000000000000000'"); // BUSOFF
  await sink.waitFor(() => sink.state?.bus === 'bus-off', 'bus-off', T);
  note();
  const r = b.send(makeFrame({ id: 0x10, data: [1] }), originOf(1));
  check(!r.ok && r.reason === 'bus_off', `TX refused as bus_off: ${JSON.stringify(r)}`);
  sh("cansend vcan0 '20000100#0000000000000000'"); // RESTARTED
  await sink.waitFor(() => sink.state?.bus === 'error-active', 'restarted → error-active', T);
  note();
  check(b.send(makeFrame({ id: 0x10, data: [2] }), originOf(1)).ok, 'TX accepted again after restart');
  const c = b.counters().errorCounters!;
  check(c.errorFrames === 3 && c.busOff === 1 && c.errorPassive === 1 && c.restarted === 1, `counters ${JSON.stringify(c)}`);
  check(sink.errors.length === 3, 'errorFrame reported 3 times');
  check(sink.rx.filter((x) => (x.frame.id & CAN_ERR_FLAG) !== 0).length === 3, 'error frames also delivered (the daemon decides forwarding)');
  await closeAll();
  return { states, counters: c };
}

async function tbfStaleness() {
  // A 50 kbit/s bus: tbf on vcan0 (vcan echo=1 makes readers see frames after the qdisc).
  // The qdisc holds ~20 frames; beyond that the kernel answers ENOBUFS and the bridge's own
  // queue takes over, retrying every 1-5 ms; what waits longer than tx-max-age is dropped.
  sh('tc qdisc add dev vcan0 root tbf rate 50kbit burst 64 limit 320');
  const maxAge = 500;
  const { b, sink } = await open('vcan0', { txMaxAge: maxAge });
  const dump = await Candump.start('vcan0');
  const total = 400;
  const sentAt: number[] = [];
  for (let i = 0; i < total; i++) {
    sentAt.push(performance.now());
    check(b.send(makeFrame({ id: 0x1e5a, extended: true, data: [i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0] }), originOf(i)).ok, `send ${i}`);
  }
  const highWater = () => b.counters().txQueueHighWater ?? 0;
  await sink.waitFor(() => b.counters().txQueueDepth === 0, 'queue drained or expired', T * 2);
  await sleep(1500); // let the qdisc drain to candump
  const seen = await dump.stop();
  sh('tc qdisc del dev vcan0 root');
  const stale = sink.dropCount('stale');
  const onBus = seen.map((l) => l.text);
  // Compared as sets: behind a tbf qdisc, vcan's echo=1 loopback runs on whichever CPU
  // dequeues and netif_rx uses that CPU's backlog, so candump on a 2-CPU guest may see two
  // frames swapped. The write order itself is checked below from what the backend reported.
  check(new Set(onBus).size === onBus.length, 'no frame reached the bus twice');
  equalLists([...onBus].sort(), sink.tx.map((t) => frameText(t.frame)).sort(), 'candump vs frames reported transmitted');
  check(sink.tx.length + stale === total, `transmitted ${sink.tx.length} + stale ${stale} = ${total}`);
  check(stale > 0, 'some frames went stale');
  const busy = b.counters().txBusy ?? 0;
  check(busy > 0, 'ENOBUFS retries happened');
  const seqs = sink.tx.map((t) => t.origin.session);
  check(
    seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
    'in order, no duplicates',
  );
  // Reported transmitted = confirmed by the kernel after the qdisc (≤ 20 frames of 2.56 ms
  // at 50 kbit/s behind the write), so: written within tx-max-age, on the bus soon after.
  const lateMs = Math.max(0, ...sink.tx.map((t) => t.at - sentAt[t.origin.session]));
  check(lateMs <= maxAge + 200, `a frame reached the bus ${lateMs.toFixed(0)} ms after send()`);
  // The confirmation carries the time the frame left the qdisc: candump's time for it.
  const dumpTs = new Map(seen.map((l) => [l.text, l.tsUs]));
  const confirmDiffUs = sink.tx.map((t) => Math.round(t.frame.timestamp * 1000) - (dumpTs.get(frameText(t.frame)) ?? Number.NaN));
  check(
    confirmDiffUs.every((d) => Math.abs(d) <= 1),
    `confirmation times differ from candump's: ${confirmDiffUs.slice(0, 10).join(',')}`,
  );
  const span = seen.length > 1 ? (seen.at(-1)!.tsUs - seen[0].tsUs) / 1e6 : 0;
  await closeAll();
  return {
    sent: total,
    onBus: onBus.length,
    stale,
    enobufsRetries: busy,
    queueHighWater: highWater(),
    maxQueueAgeAtWriteMs: Math.round(lateMs),
    unconfirmed: b.counters().txUnconfirmed,
    busFps: span > 0 ? Math.round((seen.length - 1) / span) : null,
  };
}

/** CAN FD frames of 0..8 bytes are FD by their frame size, with BRS/ESI as sent. */
async function fdSmallFrames() {
  const { sink } = await open('vcan0');
  const dump = await Candump.start('vcan0');
  const cases = ['123##1AABB', '456##0', '1ABCDEF0##311223344', `7FF##2${'55'.repeat(8)}`, '124#AABB'];
  for (const c of cases) sh(`cansend vcan0 '${c}'`);
  await sink.waitFor(() => sink.rx.length >= cases.length, 'all frames', T);
  const seen = await dump.waitFor(cases.length, T);
  await dump.stop();
  equalLists(
    sink.rx.map((r) => frameText(r.frame)),
    seen.map((l) => l.text),
    'backend vs candump',
  );
  const got = sink.rx.map((r) => ({ fd: r.frame.fd, flags: r.frame.fdFlags, len: r.frame.len }));
  check(got.slice(0, 4).every((g) => g.fd) && !got[4].fd, `FD marks: ${JSON.stringify(got)}`);
  check(
    got.slice(0, 4).every((g, i) => g.flags === ((seen[i].fdFlags ?? -1) & 3)),
    `flags vs candump: ${JSON.stringify(got)} ${seen.map((l) => l.fdFlags)}`,
  );
  await closeAll();
  return { fdFrames: 4, lengths: got.map((g) => g.len), flags: got.map((g) => g.flags) };
}

/**
 * A burst the bridge cannot read: cangen runs synchronously (execFileSync), so the event
 * loop is held busy for the whole burst and only the socket's small receive buffer holds
 * frames. Every frame is accounted for: read, or counted as a kernel drop.
 */
async function kernelDropsBurst() {
  const { b, sink } = await open('vcan0', { rcvbuf: 16384 });
  const n = 3000;
  sh(`cangen vcan0 -g 0 -n ${n} -I 1E5 -L 8 -D i`);
  await sleep(500);
  const dropsBeforeMarker = b.counters().rxKernelDrops ?? 0; // SO_MEMINFO, no frame needed
  sh("cansend vcan0 '7FF#FF'"); // the queue is empty again: this one is read
  await sink.waitFor(() => sink.rx.some((r) => frameText(r.frame) === '7FF#FF'), 'marker', T);
  const drops = b.counters().rxKernelDrops ?? 0;
  const rx = sink.rx.length;
  check(drops > 0, `the burst did not overflow the receive buffer (read ${rx})`);
  check(rx + drops === n + 1, `read ${rx} + kernel drops ${drops} = ${rx + drops}, sent ${n + 1}`);
  check(dropsBeforeMarker === drops, `SO_MEMINFO saw ${dropsBeforeMarker} before the marker, the marker says ${drops}`);
  // what was read is in order, without duplicates (cangen -D i: byte 0 counts up)
  // The event loop was blocked from the first frame on: what was read is the head of the
  // burst, in order (cangen -D i: byte 0 counts up), the rest was dropped.
  const seq = sink.rx.slice(0, -1).map((r) => r.frame.data[0]);
  check(
    seq.every((v, i) => v === (i & 0xff)),
    'the frames read are the first of the burst, in order',
  );
  check(
    sink.logs.some((l) => l.event === 'can_rx_kernel_drops'),
    'a kernel-drop warning was logged',
  );
  await closeAll();
  return { sent: n + 1, read: rx, kernelDrops: drops, rcvbuf: sink.logs.find((l) => l.event === 'socketcan_open')?.fields?.rcvbuf };
}

/**
 * The receive buffer an unprivileged process gets (as the installed service runs): the
 * kernel caps it at net.core.rmem_max, root gets what it asks for; raising rmem_max (what
 * setup's sysctl file does) lifts the cap. The open is made in a child that drops to nobody.
 */
async function rcvbufUnprivileged() {
  const asked = 8 << 20;
  const child = `
    process.setgid(65534); process.setuid(65534);
    const { loadCanBinding } = await import(${JSON.stringify(new URL('../../../src/backends/socketcan/binding.js', import.meta.url).href)});
    const s = loadCanBinding().open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: ${asked} }, () => {});
    console.log(s.info().rcvbuf); s.close();`;
  const grantedAs = (): number => Number(execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' }).trim());
  const rmemMax = (): number => Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  const before = rmemMax();
  const unprivileged = grantedAs();
  check(unprivileged === 2 * Math.min(asked, before), `unprivileged: granted ${unprivileged} with rmem_max ${before}`);
  const rootSock = loadCanBinding().open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: asked }, () => {});
  const root = rootSock.info().rcvbuf;
  // changed on the open socket (a reload of --can-rcvbuf): more, then the kernel's default
  const grown = rootSock.setRcvbuf(2 * asked);
  const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim());
  const backToDefault = rootSock.setRcvbuf(0);
  const infoAfter = rootSock.info().rcvbuf;
  rootSock.close();
  const afterClose = rootSock.setRcvbuf(asked);
  check(root === 2 * asked, `root: granted ${root}`);
  check(grown === 4 * asked, `setRcvbuf(${2 * asked}) granted ${grown}`);
  check(
    backToDefault === 2 * rmemDefault && infoAfter === backToDefault,
    `setRcvbuf(0) granted ${backToDefault} (info ${infoAfter}), rmem_default ${rmemDefault}`,
  );
  check(afterClose === -constants.errno.EBADF, `setRcvbuf after close gave ${afterClose}`);
  sh(`sysctl -w net.core.rmem_max=${asked} >/dev/null 2>&1 || echo ${asked} > /proc/sys/net/core/rmem_max`);
  const raised = grantedAs();
  writeFileSync('/proc/sys/net/core/rmem_max', String(before));
  check(raised === 2 * asked, `unprivileged after raising rmem_max: granted ${raised}`);
  return { asked, rmemMax: before, unprivileged, root, raised, grown, rmemDefault, backToDefault, afterClose };
}

/** send() reports the errno: ENOBUFS from a full tbf qdisc, ENETDOWN, ENXIO. */
async function sendErrno() {
  const binding = loadCanBinding();
  sh('tc qdisc add dev vcan0 root tbf rate 50kbit burst 64 limit 320');
  const sock = binding.open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: 0 }, () => {});
  const data = new Uint8Array(8);
  let accepted = 0;
  let errno = 0;
  for (let i = 0; i < 1000 && errno === 0; i++) {
    errno = sock.send(0x123, data, 8, 0, false);
    if (errno === 0) accepted++;
  }
  check(errnoName(errno) === 'ENOBUFS', `a full qdisc answered ${errnoName(errno)} after ${accepted} frames`);
  sh('tc qdisc del dev vcan0 root');
  sh('ip link set vcan0 down');
  const down = errnoName(sock.send(0x123, data, 8, 0, false));
  sh('ip link set vcan0 up');
  sh('ip link del vcan0');
  const gone = errnoName(sock.send(0x123, data, 8, 0, false));
  sock.close();
  check(down === 'ENETDOWN', `link down: ${down}`);
  check(gone === 'ENXIO', `interface deleted: ${gone}`);
  check(errnoName(sock.send(0x123, data, 8, 0, false)) === 'EBADF', 'closed socket: EBADF');
  return { acceptedBeforeEnobufs: accepted, full: 'ENOBUFS', down, gone };
}

/** 1,000 opens and closes leave no descriptor behind. */
async function closeReopenFds() {
  const binding = loadCanBinding();
  const fds = () => readdirSync('/proc/self/fd').length;
  // Children of earlier checks (candump, ip, tc) may still be closing their pipes: count
  // from a steady state, and judge "no more than before" (a leak only ever adds).
  const steady = async (): Promise<number> => {
    let last = fds();
    let same = 0;
    for (let i = 0; i < 100 && same < 5; i++) {
      await sleep(100);
      const now = fds();
      same = now === last ? same + 1 : 0;
      last = now;
    }
    return last;
  };
  const before = await steady();
  for (let i = 0; i < 1000; i++) {
    const s = binding.open('vcan0', { fd: true, errorMask: 0x1fffffff, recvOwn: true, rcvbuf: 65536 }, () => {});
    s.close();
    s.close(); // idempotent
  }
  await sleep(100); // let libuv run the poll handles' close callbacks
  const after = await steady();
  check(after <= before, `fds before ${before}, after ${after}`);
  // and the backend itself, through link loss and reopen. The first reopen is a warm-up:
  // the backend's first `ip` child makes libuv open its child-signal pipe for good.
  const { b, sink } = await open('vcan1');
  const cycle = async (n: number) => {
    sh('ip link set vcan1 down && ip link set vcan1 up');
    await sink.waitFor(() => b.counters().reopens === n && isOpen(sink), `reopen ${n}`, T);
  };
  await cycle(1);
  const openBase = await steady();
  for (let i = 2; i <= 6; i++) await cycle(i);
  const afterBackend = await steady();
  check(afterBackend <= openBase, `fds with the backend open: ${openBase} before 5 reopens, ${afterBackend} after`);
  await closeAll();
  return { cycles: 1000, fdsBefore: before, fdsAfter: after, backendReopens: 5, backendFdsBefore: openBase, backendFdsAfter: afterBackend };
}

/** Runs cangen in the background (the event loop stays free to read) and waits for it. */
function cangen(args: string): Promise<number> {
  return new Promise((resolve) => spawn('cangen', ['vcan0', ...args.split(' ')], { stdio: 'ignore' }).once('exit', (c) => resolve(c ?? 1)));
}

/**
 * Read pacing (--can-rx-coalesce): while frames come faster than one per interval the queue
 * is read on the timer, many frames per wakeup, none lost, in order; once the queue runs dry
 * the socket is read at readiness again; closing it while paced stops the callbacks.
 */
async function pacedReads() {
  const binding = loadCanBinding();
  const n = 1500;
  const seq: number[] = [];
  let batches = 0;
  let pacedSeen = false;
  const sock = binding.open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: 1 << 20, coalesceMs: 5 }, (batch, count) => {
    if (!batch) return;
    batches++;
    if (sock.info().paced) pacedSeen = true;
    for (let i = 0; i < count; i++) seq.push(batch[i * RECORD_SIZE + 8]);
  });
  check((await cangen(`-g 0.5 -n ${n} -I 123 -L 8 -D i`)) === 0, 'cangen ran');
  for (let i = 0; i < 200 && seq.length < n; i++) await sleep(100);
  const read = seq.length;
  check(seq.length === n, `read ${seq.length} of ${n} (kernel drops ${sock.kernelDrops()})`);
  check(
    seq.every((v, i) => v === (i & 0xff)),
    'in order, no duplicates',
  );
  check(pacedSeen, 'the burst was read on the pacing timer');
  const meanBatch = n / batches;
  check(meanBatch >= 2, `${batches} wakeups for ${n} frames: pacing did not batch`);
  await sleep(300);
  const pacedAfterIdle = sock.info().paced;
  check(!pacedAfterIdle, 'still paced after the queue ran dry');
  const before = batches;
  sh("cansend vcan0 '7FF#FF'");
  for (let i = 0; i < 100 && batches === before; i++) await sleep(50);
  check(batches === before + 1 && seq.at(-1) === 0xff, 'a frame on the quiet bus is read');
  const kernelDrops = sock.kernelDrops();
  sock.close();

  // closed from its own callback while paced: no callback afterwards, nothing leaks
  let after = 0;
  let closed = false;
  const sock2 = binding.open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: 1 << 20, coalesceMs: 5 }, () => {
    if (closed) after++;
    else if (sock2.info().paced) {
      sock2.close();
      closed = true;
    }
  });
  await cangen('-g 0.5 -n 600 -I 124 -L 8');
  await sleep(300);
  check(closed, 'the second burst was paced too');
  check(after === 0, `${after} callbacks after close()`);

  // switched on and off on an open socket (a reload of --can-rx-coalesce or --flush-interval)
  let got = 0;
  let pacedNow = false;
  const sock3 = binding.open('vcan0', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: 1 << 20, coalesceMs: 0 }, (batch, count) => {
    if (!batch) return;
    got += count;
    if (sock3.info().paced) pacedNow = true;
  });
  const burst = async (want: number): Promise<void> => {
    await cangen('-g 0.5 -n 400 -I 125 -L 8');
    for (let i = 0; i < 200 && got < want; i++) await sleep(50);
    check(got === want, `read ${got} of ${want}`);
  };
  await burst(400);
  const pacedWhileOff = pacedNow;
  check(!pacedWhileOff, 'paced while pacing was off');
  check(sock3.setPacing(5) === 0, 'setPacing(5) refused');
  await burst(800);
  const pacedOnceOn = pacedNow;
  check(pacedOnceOn, 'setPacing(5): the next burst was not paced');
  await sleep(300);
  pacedNow = false;
  check(sock3.setPacing(0) === 0, 'setPacing(0) refused');
  await burst(1200);
  check(!pacedNow, 'setPacing(0): the next burst was still paced');
  const badValue = sock3.setPacing(-1);
  check(badValue === constants.errno.EINVAL, `setPacing(-1) gave ${badValue}, not EINVAL`);
  sock3.close();
  const afterClose = sock3.setPacing(5);
  check(afterClose === constants.errno.EBADF, `setPacing after close gave ${afterClose}, not EBADF`);
  return {
    sent: n,
    read,
    wakeups: batches - 1,
    meanBatch: Math.round(meanBatch * 10) / 10,
    pacedSeen,
    pacedAfterIdle,
    callbacksAfterClose: after,
    kernelDrops,
    setPacing: { pacedWhileOff, pacedOnceOn, pacedAfterOff: pacedNow, badValue, afterClose },
  };
}

const CHECKS: [string, () => Promise<Record<string, unknown>>][] = [
  ['rx_frames', rxFrames],
  ['tx_frames', txFrames],
  ['read_wait', readWait],
  ['rcvbuf_unprivileged', rcvbufUnprivileged],
  ['two_channels', twoChannels],
  ['fd_on_classic', fdOnClassic],
  ['link_down_up', linkDownUp],
  ['delete_recreate', deleteRecreate],
  ['absent_at_start', absentAtStart],
  ['error_frames', errorFrames],
  ['tbf_staleness', tbfStaleness],
  ['fd_small_frames', fdSmallFrames],
  ['kernel_drops_burst', kernelDropsBurst],
  ['paced_reads', pacedReads],
  ['send_errno', sendErrno],
  ['close_reopen_fds', closeReopenFds],
];

async function main(): Promise<void> {
  const only = process.argv.length > 2 ? new Set(process.argv.slice(2)) : undefined;
  const ok = await runChecks(
    CHECKS.map(([name, fn]) => [
      name,
      async () => {
        resetVcan('vcan0');
        resetVcan('vcan1');
        try {
          return await fn();
        } finally {
          await closeAll();
        }
      },
    ]),
    only,
  );
  resetVcan('vcan0');
  resetVcan('vcan1');
  process.exit(ok ? 0 : 1);
}

await main();
