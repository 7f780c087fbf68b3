// Guest side of the VM suite, backend level: drives src/backends/socketcan.ts directly
// against real vcan interfaces, with can-utils as independent peers, and through the
// faults of issue 3. Prints one `@@check {json}` line per check (test/vm/socketcan.vm.test.ts
// asserts them). Needs vcan0 and vcan1 up with MTU 72 (CANVM_VCAN_MTU=72) and root.
//
// Usage: node dist/test/vm/guest/socketcan-backend.js [check-name ...]
import { createSocketCanBackend, type SocketCanBackend, type SocketCanBackendOptions } from '../../../src/backends/socketcan.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, type CanFrame, makeFrame } from '../../../src/core/frame.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { Candump, canonical, check, equalLists, resetVcan, runChecks, sh, sleep } from './can-tools.js';

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

const frameText = (f: CanFrame) =>
  canonical(f.id, (f.id & CAN_EFF_FLAG) !== 0, { rtr: (f.id & CAN_RTR_FLAG) !== 0, len: f.len, fd: f.fd, data: f.data });

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
  equalLists(got, seen.map((l) => l.text), 'backend vs candump (bus → bridge)');
  // FD is known only beyond 8 bytes (binding limitation): both FD cases here are longer.
  check(sink.rx[6].frame.fd && sink.rx[7].frame.fd && !sink.rx[0].frame.fd, 'FD frames marked fd, classic not');
  check(sink.rx[5].frame.len === 3 && sink.rx[5].frame.data.length === 0, 'RTR keeps its DLC, no data');
  // Kernel receive timestamps: the same skb time candump reads, to the microsecond. The
  // binding asks for it with SIOCGSTAMP, which turns timestamping on at its first call, so
  // the first frame of a channel carries the time it was read instead (never earlier).
  const tsDiffUs = sink.rx.map((r, i) => Math.round(r.frame.timestamp * 1000) - seen[i].tsUs);
  check(tsDiffUs[0] >= -1, `first frame stamped before it arrived: ${tsDiffUs[0]} µs`);
  check(tsDiffUs.slice(1).every((d) => Math.abs(d) <= 1), `kernel timestamps differ from candump's: ${tsDiffUs.join(',')}`);
  await closeAll();
  return { frames: got.length, candump: seen.length, tsDiffUs };
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
  frames.forEach((f, i) => check(b.send(f, 10 + i).ok, `send ${i} accepted`));
  await sink.waitFor(() => sink.tx.length === frames.length, 'transmitted', T);
  const seen = await dump.waitFor(frames.length, T);
  await dump.stop();
  equalLists(seen.map((l) => l.text), frames.map(frameText), 'candump vs sent (bridge → bus)');
  check(sink.tx.map((t) => t.origin).join() === frames.map((_, i) => 10 + i).join(), 'origins reported in order');
  check(((seen[5].fdFlags ?? 0) & CANFD_BRS) !== 0 && ((seen[6].fdFlags ?? 0) & CANFD_BRS) === 0, `BRS flag carried: ${seen[5].fdFlags}/${seen[6].fdFlags}`);
  check(b.send({ ...makeFrame({ id: 1 }), len: 9, data: new Uint8Array(9) }, 1).ok === false, 'a 9-byte classic frame is refused');
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
    c0.b.send(makeFrame({ id: 0x500, extended: false, data: [i] }), 1);
    c1.b.send(makeFrame({ id: 0x600, extended: false, data: [i] }), 2);
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
  // each backend received exactly its bus's cangen frames (not its own TX: no RECV_OWN_MSGS)
  equalLists(rx0, s0.filter((l) => l.text.startsWith('100#')).map((l) => l.text), 'vcan0 backend vs candump');
  equalLists(rx1, s1.filter((l) => l.text.startsWith('12345678#')).map((l) => l.text), 'vcan1 backend vs candump');
  equalLists(s0.filter((l) => l.text.startsWith('500#')).map((l) => l.text), c0.sink.tx.map((t) => frameText(t.frame)), 'vcan0 TX');
  equalLists(s1.filter((l) => l.text.startsWith('600#')).map((l) => l.text), c1.sink.tx.map((t) => frameText(t.frame)), 'vcan1 TX');
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
  const r = b.send(fd, 1);
  check(!r.ok && r.reason === 'fd_unsupported', `FD to a classic interface refused: ${JSON.stringify(r)}`);
  const dump = await Candump.start('vcan1');
  check(b.send(makeFrame({ id: 0x124, extended: false, data: [1] }), 1).ok, 'classic still accepted');
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
  const r = b.send(makeFrame({ id: 0x1 }), 1);
  check(!r.ok && r.reason === 'link_down', 'TX refused as link_down while down');
  await sleep(500);
  const tUp = performance.now();
  sh('ip link set vcan0 up');
  await sink.waitFor(() => isOpen(sink), 'reopened after up', T);
  const reopenMs = sink.state!.at - tUp;
  sh("cansend vcan0 '0AB#01'");
  await sink.waitFor(() => sink.rx.length === 1, 'a frame after up', T);
  const dump = await Candump.start('vcan0');
  check(b.send(makeFrame({ id: 0xac, extended: false, data: [2] }), 1).ok, 'TX accepted after up');
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
  const r = b.send(makeFrame({ id: 1 }), 1);
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
  const r = b.send(makeFrame({ id: 0x10, data: [1] }), 1);
  check(!r.ok && r.reason === 'bus_off', `TX refused as bus_off: ${JSON.stringify(r)}`);
  sh("cansend vcan0 '20000100#0000000000000000'"); // RESTARTED
  await sink.waitFor(() => sink.state?.bus === 'error-active', 'restarted → error-active', T);
  note();
  check(b.send(makeFrame({ id: 0x10, data: [2] }), 1).ok, 'TX accepted again after restart');
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
    check(b.send(makeFrame({ id: 0x1e5a, extended: true, data: [i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0] }), i).ok, `send ${i}`);
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
  const seqs = sink.tx.map((t) => t.origin);
  check(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'in order, no duplicates');
  const lateMs = Math.max(0, ...sink.tx.map((t) => t.at - sentAt[t.origin]));
  check(lateMs <= maxAge + 100, `a frame went to the kernel ${lateMs.toFixed(0)} ms after send()`);
  const span = seen.length > 1 ? (seen.at(-1)!.tsUs - seen[0].tsUs) / 1e6 : 0;
  await closeAll();
  return {
    sent: total,
    onBus: onBus.length,
    stale,
    enobufsRetries: busy,
    queueHighWater: highWater(),
    maxQueueAgeAtWriteMs: Math.round(lateMs),
    busFps: span > 0 ? Math.round((seen.length - 1) / span) : null,
  };
}

const CHECKS: [string, () => Promise<Record<string, unknown>>][] = [
  ['rx_frames', rxFrames],
  ['tx_frames', txFrames],
  ['two_channels', twoChannels],
  ['fd_on_classic', fdOnClassic],
  ['link_down_up', linkDownUp],
  ['delete_recreate', deleteRecreate],
  ['absent_at_start', absentAtStart],
  ['error_frames', errorFrames],
  ['tbf_staleness', tbfStaleness],
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
