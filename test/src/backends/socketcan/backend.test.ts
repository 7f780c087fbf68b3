// Host-side tests of the SocketCAN backend. This machine's kernel has no AF_CAN, so the
// real bus behaviour is tested in the VM suite (test/vm/socketcan.vm.test.ts); here: the
// real addon and sysfs on an interface that does not exist, and the TX/RX paths with a
// scripted socket (ENOBUFS for 50 ms, confirmations, kernel drops, socket errors).
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BatchCallback, CanBinding, CanSocketLike, CanSocketOptions } from '../../../../src/backends/socketcan/binding.js';
import { createSocketCanBackend } from '../../../../src/backends/socketcan/backend.js';
import { ABSENT_LINK, type LinkSnapshot } from '../../../../src/backends/socketcan/link.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { packBatch, type BatchEntry } from '../../../support/can-batch.js';
import { RecordingSink } from '../../../support/recording-sink.js';
import { originOf } from '../../../support/origin.js';

const wall = () => performance.timeOrigin + performance.now();
const { ENOBUFS, ENETDOWN, EINVAL } = constants.errno;

describe('SocketCanBackend with the real addon and sysfs', () => {
  it('an interface that does not exist: start() resolves, state absent, TX refused as link_down', async () => {
    const sink = new RecordingSink();
    const b = createSocketCanBackend({ ifname: 'ampiotest9', bitrate: 50000, txQueueSize: 16, txMaxAge: 2000, now: () => performance.now(), wallClock: wall });
    await b.start(sink);
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'absent' });
    expect(b.send(makeFrame({ id: 0x123, data: [1] }), originOf(1))).toEqual({ ok: false, reason: 'link_down' });
    expect(b.info).toMatchObject({ kind: 'socketcan', name: 'ampiotest9', bitrate: 50000 });
    await b.stop();
    expect(sink.state).toMatchObject({ backend: 'closed', bus: 'stopped' });
    await b.stop(); // idempotent
  });
});

interface Sent {
  id: number;
  data: number[];
  len: number;
  flags: number;
  fd: boolean;
}

/** A socket that refuses writes with `errno` until `blockedUntil`, and echoes what it took. */
class ScriptedSocket implements CanSocketLike {
  sent: Sent[] = [];
  refusals = 0;
  blockedUntil = 0;
  /** Refuse this many writes, whatever the time (load-independent). */
  refuseNext = 0;
  errno = ENOBUFS;
  drops = 0;
  closed = false;
  constructor(
    readonly options: CanSocketOptions,
    private readonly onBatch: BatchCallback,
  ) {}
  send(id: number, data: Uint8Array | null, len: number, flags: number, fd: boolean): number {
    if (this.refuseNext > 0 || performance.now() < this.blockedUntil) {
      if (this.refuseNext > 0) this.refuseNext--;
      this.refusals++;
      return this.errno;
    }
    this.sent.push({ id, data: [...(data ?? [])], len, flags, fd });
    return 0;
  }
  setFilters(): number {
    return 0;
  }
  readonly pacing: number[] = [];
  setPacing(ms: number): number {
    this.pacing.push(ms);
    return this.closed ? 9 /* EBADF */ : 0;
  }
  kernelDrops(): number {
    return this.drops;
  }
  close(): void {
    this.closed = true;
  }
  /** What the kernel reports it granted (twice what it allows); default: all that was asked. */
  grantedRcvbuf: number | null = null;
  readonly rcvbufAsks: number[] = [];
  private asked: number | null = null;
  setRcvbuf(bytes: number): number {
    this.rcvbufAsks.push(bytes);
    if (this.closed) return -9; // EBADF
    this.asked = bytes;
    return this.info().rcvbuf;
  }
  info() {
    return { rcvbuf: this.grantedRcvbuf ?? (this.asked ?? this.options.rcvbuf) * 2, ifindex: 3, fd: 42, closed: this.closed, paced: false };
  }
  deliver(entries: BatchEntry[], drops = this.drops, paced = false): void {
    this.drops = drops;
    this.onBatch(packBatch(entries), entries.length, drops, 0, paced);
  }
  fail(errno: number): void {
    this.onBatch(null, 0, this.drops, errno);
  }
  /** Confirms the first `n` frames written, as the kernel does once they left the device. */
  confirm(n: number, ts: [number, number] = [1_700_000_000, 500_000]): void {
    const frames = this.sent.splice(0, n).map(
      (s): BatchEntry => ({
        frame: { id: s.id, len: s.len, data: Uint8Array.from(s.data), fd: s.fd, fdFlags: s.flags, timestamp: 0 },
        own: true,
        ts,
      }),
    );
    this.deliver(frames);
  }
}

function scripted(link: Partial<LinkSnapshot> = {}, txMaxAge = 2000) {
  const sockets: ScriptedSocket[] = [];
  const binding: CanBinding = {
    open: (_ifname, options, onBatch) => {
      const s = new ScriptedSocket(options, onBatch);
      sockets.push(s);
      return s;
    },
    probe: () => 0,
  };
  const sink = new RecordingSink();
  const b = createSocketCanBackend({
    ifname: 'can0',
    bitrate: 50000,
    txQueueSize: 1024,
    txMaxAge,
    rcvbuf: 65536,
    rxCoalesceMs: 1.5,
    now: () => performance.now(),
    wallClock: wall,
    loadBinding: () => binding,
    readLink: async () => ({ ...ABSENT_LINK, present: true, up: true, mtu: 16, operstate: 'up', txQueueLen: 100, ifindex: 3, ...link }),
    readDetails: async () => null,
    watchIntervalMs: 50,
  });
  return { sockets, sink, b, binding, ch: () => sockets.at(-1)! };
}

describe('SocketCanBackend TX path (scripted socket)', () => {
  it('opens with FD per MTU, every error class, its own frames back, the receive buffer and the read pacing asked for', async () => {
    const { b, sink, ch } = scripted({ mtu: 72 });
    await b.start(sink);
    // libuv timers count whole milliseconds: 1.5 ms paces at 2 (never at 1, which would be shorter)
    expect(ch().options).toEqual({ fd: true, errorMask: 0x1fffffff, recvOwn: true, rcvbuf: 65536, coalesceMs: 2 });
    expect(sink.logs.find((l) => l.event === 'socketcan_open')?.fields).toMatchObject({ rcvbuf: 131072, fd: true, rxCoalesceMs: 2 });
    await b.stop();
    expect(ch().closed).toBe(true);
  });

  it('a receive buffer the kernel capped (net.core.rmem_max) is warned about once, with what to run; a granted one is not', async () => {
    const granted = scripted();
    await granted.b.start(granted.sink);
    await waitUntil(() => granted.sink.logs.some((l) => l.event === 'socketcan_open'), 'opened');
    expect(granted.sink.logs.filter((l) => l.event === 'socketcan_rcvbuf_limited')).toEqual([]);
    await granted.b.stop();

    const capped = scripted();
    const open = capped.binding.open;
    capped.binding.open = (ifname, options, onBatch) => {
      const s = open(ifname, options, onBatch) as ScriptedSocket;
      s.grantedRcvbuf = 32_768; // an rmem_max of 16384 (below the 65536 asked for), doubled
      return s;
    };
    await capped.b.start(capped.sink);
    await waitUntil(() => capped.sink.logs.some((l) => l.event === 'socketcan_open'), 'opened');
    capped.ch().fail(ENETDOWN);
    await waitUntil(() => capped.sink.logs.filter((l) => l.event === 'socketcan_open').length === 2, 'reopened');
    const warnings = capped.sink.logs.filter((l) => l.event === 'socketcan_rcvbuf_limited');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].fields?.message)).toContain('16384 bytes, not the 65536 asked for');
    expect(String(warnings[0].fields?.message)).toContain('sudo sysctl -w net.core.rmem_max=65536');
    // a reload asking for more, still capped: said again, for the new size
    capped.b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 2, flushInterval: 100, canRcvbuf: 1 << 20 });
    const again = capped.sink.logs.filter((l) => l.event === 'socketcan_rcvbuf_limited');
    expect(again).toHaveLength(2);
    expect(String(again[1].fields?.message)).toContain(`16384 bytes, not the ${1 << 20} asked for`);
    await capped.b.stop();
  });

  it('a reload changes the read pacing and the receive buffer of the open socket at once, and a reopened socket opens with them', async () => {
    const { b, sink, ch, sockets } = scripted();
    await b.start(sink);
    expect(ch().options.coalesceMs).toBe(2);
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 2, flushInterval: 100, canRcvbuf: 65536 }); // unchanged: the socket is left alone
    expect(ch().pacing).toEqual([]);
    expect(ch().rcvbufAsks).toEqual([]);
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 0, flushInterval: 100, canRcvbuf: 65536 });
    expect(ch().pacing).toEqual([0]);
    expect(sink.logs.find((l) => l.event === 'socketcan_pacing')?.fields).toMatchObject({ if: 'can0', rxCoalesceMs: 0 });
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 7.2, flushInterval: 100, canRcvbuf: 65536 });
    expect(ch().pacing).toEqual([0, 8]);
    // never above --flush-interval: paced frames still leave within one flush interval
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 7.2, flushInterval: 3, canRcvbuf: 65536 });
    expect(ch().pacing).toEqual([0, 8, 3]);
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 7.2, flushInterval: 100, canRcvbuf: 65536 });
    expect(ch().pacing).toEqual([0, 8, 3, 8]);
    // a new receive buffer, too: asked of the open socket at once, logged with what was granted
    b.reconfigure({ txMaxAge: 2000, canRxCoalesce: 7.2, flushInterval: 100, canRcvbuf: 1 << 20 });
    expect(ch().rcvbufAsks).toEqual([1 << 20]);
    expect(sink.logs.find((l) => l.event === 'socketcan_rcvbuf')?.fields).toMatchObject({ if: 'can0', asked: 1 << 20, rcvbuf: 2 << 20 });
    ch().fail(ENETDOWN);
    await waitUntil(() => sockets.length === 2, 'reopened');
    expect(ch().options.coalesceMs).toBe(8);
    expect(ch().options.rcvbuf).toBe(1 << 20);
    await b.stop();
  });

  it('the device refusing a while (ENOBUFS): all frames go out in order, none lost, retries counted', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    expect(sink.state).toMatchObject({ backend: 'open', bus: 'error-active' });
    ch().refuseNext = 8;
    for (let i = 0; i < 100; i++) expect(b.send(makeFrame({ id: 0x1e5a, extended: true, data: [i] }), originOf(i)).ok).toBe(true);
    await waitUntil(() => ch().sent.length === 100, '100 written');
    expect(ch().sent.map((m) => m.data[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(ch().sent[0]).toMatchObject({ id: 0x80001e5a, fd: false, len: 1 });
    expect(sink.drops).toEqual([]);
    expect(ch().refusals).toBe(8);
    expect(b.counters().txBusy).toBe(8);
    expect(b.stats().sendErrors).toEqual({ ENOBUFS: ch().refusals });
    await b.stop();
  });

  it('a frame counts as transmitted only when the kernel confirms it, with the kernel time and its sender', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    for (let i = 0; i < 3; i++) b.send(makeFrame({ id: 0x100 + i, data: [i] }), originOf(7 + i));
    await waitUntil(() => ch().sent.length === 3, 'written');
    expect(sink.tx).toHaveLength(0);
    ch().confirm(2, [1_700_000_001, 250_000_000]);
    expect(sink.tx.map((t) => t.origin.session)).toEqual([7, 8]);
    expect(sink.tx[0].frame.timestamp).toBe(1_700_000_001_250);
    expect(sink.rx).toHaveLength(0); // our own frames are not "received"
    expect(b.stats().awaitingConfirmation).toBe(1);
    await b.stop();
  });

  it('frames never confirmed within tx-max-age are counted as unconfirmed, and so are those lost with the link', async () => {
    const { sink, b, ch } = scripted({}, 100);
    await b.start(sink);
    b.send(makeFrame({ id: 0x10, data: [1] }), originOf(1));
    await waitUntil(() => ch().sent.length === 1, 'written');
    await waitUntil(() => b.counters().txUnconfirmed === 1, 'unconfirmed after 100 ms');
    ch().confirm(1); // too late: matches nothing, reported nothing
    expect(sink.tx).toHaveLength(0);
    b.send(makeFrame({ id: 0x11, data: [2] }), originOf(2));
    await waitUntil(() => ch().sent.length === 1, 'written');
    ch().fail(ENETDOWN);
    expect(b.counters().txUnconfirmed).toBe(2);
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'down' });
    await b.stop();
  });

  it('send errors by errno: EINVAL drops the frame as malformed, ENETDOWN loses the link', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    ch().errno = EINVAL;
    ch().blockedUntil = Infinity;
    b.send(makeFrame({ id: 0x10, data: [1] }), originOf(1));
    await waitUntil(() => sink.dropCount('malformed') === 1, 'dropped as malformed');
    ch().errno = ENETDOWN;
    b.send(makeFrame({ id: 0x10, data: [2] }), originOf(1));
    await waitUntil(() => sink.state?.backend === 'absent', 'link lost');
    expect(b.stats().sendErrors).toMatchObject({ EINVAL: 1, ENETDOWN: 1 });
    await b.stop();
  });

  it('writes RTR with its DLC and FD with BRS; refuses FD on a classic MTU and bad lengths', async () => {
    const { sink, b, ch } = scripted({ mtu: 72 });
    await b.start(sink);
    expect(b.info.fd).toBe(true);
    b.send(makeFrame({ id: 0x123, extended: false, rtr: true, len: 5 }), originOf(1));
    b.send(makeFrame({ id: 0x321, extended: false, fd: true, fdFlags: 1, data: new Array(12).fill(9) }), originOf(2));
    await waitUntil(() => ch().sent.length === 2, 'written');
    expect(ch().sent[0]).toMatchObject({ id: 0x40000123, len: 5, data: [], fd: false });
    expect(ch().sent[1]).toMatchObject({ id: 0x321, len: 12, flags: 1, fd: true });
    ch().confirm(2);
    expect(sink.tx.map((t) => t.origin.session)).toEqual([1, 2]);
    expect(b.send({ ...makeFrame({ id: 1 }), len: 9, data: new Uint8Array(9) }, originOf(1))).toEqual({ ok: false, reason: 'malformed' });
    await b.stop();

    const classic = scripted({ mtu: 16 });
    await classic.b.start(classic.sink);
    expect(classic.b.send(makeFrame({ id: 0x321, fd: true, data: [1] }), originOf(1))).toEqual({ ok: false, reason: 'fd_unsupported' });
    await classic.b.stop();
  });

  it('bus-off drops the backlog as bus_off and refuses TX until restarted', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    ch().blockedUntil = performance.now() + 60_000; // a bus nobody ACKs: frames pile up
    for (let i = 0; i < 10; i++) b.send(makeFrame({ id: 0x10, data: [i] }), originOf(i));
    await sleep(30);
    ch().deliver([{ frame: makeFrame({ id: 0x40, error: true, data: new Array(8).fill(0) }) }]); // CAN_ERR_BUSOFF
    expect(sink.state?.bus).toBe('bus-off');
    expect(sink.dropCount('bus_off')).toBe(10);
    expect(b.send(makeFrame({ id: 0x10, data: [1] }), originOf(1))).toEqual({ ok: false, reason: 'bus_off' });
    ch().blockedUntil = 0;
    ch().deliver([{ frame: makeFrame({ id: 0x100, error: true, data: new Array(8).fill(0) }) }]); // CAN_ERR_RESTARTED
    expect(sink.state?.bus).toBe('error-active');
    expect(b.send(makeFrame({ id: 0x10, data: [2] }), originOf(1)).ok).toBe(true);
    expect(sink.errors).toHaveLength(2);
    expect(b.counters().errorCounters).toMatchObject({ errorFrames: 2, busOff: 1, restarted: 1 });
    await b.stop();
  });
});

describe('SocketCanBackend RX path (scripted socket)', () => {
  it('one batch: flags, RTR DLC, exact FD (also ≤ 8 bytes, with BRS), kernel time or the wall clock', async () => {
    const { sink, b, ch } = scripted({ mtu: 72 });
    await b.start(sink);
    const before = wall();
    ch().deliver([
      { frame: makeFrame({ id: 0x1abcdef0, extended: true, data: [1, 2] }), ts: [1_700_000_000, 123_456_000] },
      { frame: makeFrame({ id: 0x123, rtr: true, len: 4 }) },
      { frame: makeFrame({ id: 0x7, fd: true, fdFlags: 1, data: [0xaa, 0xbb] }) },
      { frame: makeFrame({ id: 0x8, fd: true, data: new Array(12).fill(0xaa) }) },
    ]);
    const [a, r, small, big] = sink.rx.map((x) => x.frame);
    expect(a).toMatchObject({ id: 0x9abcdef0, len: 2, fd: false, timestamp: 1_700_000_000_123.456 });
    expect([...a.data]).toEqual([1, 2]);
    expect(r).toMatchObject({ id: 0x40000123, len: 4, fd: false });
    expect(r.data.length).toBe(0);
    expect(r.timestamp).toBeGreaterThanOrEqual(before);
    expect(small).toMatchObject({ id: 0x7, len: 2, fd: true, fdFlags: 1 });
    expect(big).toMatchObject({ id: 0x8, len: 12, fd: true, fdFlags: 0 });
    await b.stop();
  });

  it('a paced read is framed by pacedBatchStart/End, also when a frame handler throws; an ordinary one is not', async () => {
    const { sink, b, ch } = scripted();
    const seen: string[] = [];
    sink.pacedBatchStart = () => seen.push('start');
    sink.pacedBatchEnd = () => seen.push('end');
    const received = sink.received.bind(sink);
    let throwAt = -1;
    sink.received = (f) => {
      seen.push(`0x${f.id.toString(16)}`);
      if (f.id === throwAt) throw new Error('planted');
      received(f);
    };
    await b.start(sink);
    ch().deliver([{ frame: makeFrame({ id: 0x1 }) }, { frame: makeFrame({ id: 0x2 }) }], 0, true);
    ch().deliver([{ frame: makeFrame({ id: 0x3 }) }], 0, false);
    expect(seen).toEqual(['start', '0x1', '0x2', 'end', '0x3']);
    seen.length = 0;
    throwAt = 0x5;
    expect(() => ch().deliver([{ frame: makeFrame({ id: 0x5 }) }, { frame: makeFrame({ id: 0x6 }) }], 0, true)).toThrow('planted');
    expect(seen).toEqual(['start', '0x5', 'end']);
    await b.stop();
  });

  it('each received frame carries how long it waited in the kernel: read time minus kernel time, 0 when the clock stepped back or the kernel gave none', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    const ts = (msAgo: number): [number, number] => {
      const t = Date.now() - msAgo;
      return [Math.floor(t / 1000), (t % 1000) * 1e6];
    };
    const before = Date.now();
    ch().deliver([{ frame: makeFrame({ id: 0x1 }), ts: ts(5000) }, { frame: makeFrame({ id: 0x2 }), ts: ts(-60_000) }, { frame: makeFrame({ id: 0x3 }) }]);
    const elapsed = Date.now() - before;
    const [late, ahead, untimed] = sink.rx.map((r) => r.waitedMs);
    expect(late).toBeGreaterThanOrEqual(5000);
    expect(late).toBeLessThanOrEqual(5000 + elapsed + 1);
    expect(ahead).toBe(0);
    expect(untimed).toBe(0);
    await b.stop();
  });

  it('kernel drops: counted across reopens, read also without a following frame, warned at most every 10 s', async () => {
    const { sink, b, ch } = scripted();
    await b.start(sink);
    ch().deliver([{ frame: makeFrame({ id: 1, data: [1] }) }], 5);
    expect(b.counters().rxKernelDrops).toBe(5);
    ch().drops = 9; // SO_MEMINFO sees drops no frame has reported yet
    expect(b.counters().rxKernelDrops).toBe(9);
    const warnings = sink.logs.filter((l) => l.event === 'can_rx_kernel_drops');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ if: 'can0', dropped: 5, total: 5 });
    ch().fail(ENETDOWN);
    await waitUntil(() => sink.state?.backend === 'open' && ch().drops === 0, 'reopened');
    ch().deliver([{ frame: makeFrame({ id: 1, data: [1] }) }], 2);
    expect(b.counters().rxKernelDrops).toBe(11);
    expect(sink.logs.filter((l) => l.event === 'can_rx_kernel_drops')).toHaveLength(1);
    expect(b.counters().reopens).toBe(1);
    await b.stop();
  });
});

async function waitUntil(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
