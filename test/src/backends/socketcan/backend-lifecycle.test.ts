// The SocketCAN backend's link lifecycle on a manual clock: a scripted link (what sysfs
// would say) and a scripted binding, so the reopen timing is checked exactly. The real
// kernel does the same in the VM suite (link down/up, delete/re-create, MTU change).
import { constants } from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BatchCallback, CanBinding, CanSocketLike } from '../../../../src/backends/socketcan/binding.js';
import { createSocketCanBackend, type SocketCanBackend, type SocketCanBackendOptions } from '../../../../src/backends/socketcan/backend.js';
import { ABSENT_LINK, type LinkSnapshot } from '../../../../src/backends/socketcan/link.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { packBatch } from '../../../support/can-batch.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { RecordingSink } from '../../../support/recording-sink.js';
import { originOf } from '../../../support/origin.js';

const POLL_MS = 250;
const WATCH_MS = 1000;

class Socket implements CanSocketLike {
  closed = false;
  constructor(
    readonly fd: boolean,
    readonly onBatch: BatchCallback,
  ) {}
  send(): number {
    return 0;
  }
  setFilters(): number {
    return 0;
  }
  setPacing(): number {
    return 0;
  }
  setRcvbuf(bytes: number): number {
    return 2 * bytes;
  }
  kernelDrops(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
  info() {
    return { rcvbuf: 2048, ifindex: 3, fd: 7, closed: this.closed, paced: false };
  }
}

const UP: LinkSnapshot = { ...ABSENT_LINK, present: true, up: true, mtu: 16, operstate: 'up', txQueueLen: 10, ifindex: 3 };

let clock: ManualClock;
let sink: RecordingSink;
let link: LinkSnapshot;
let sockets: Socket[];
let openError: (Error & { code?: string }) | null;
/** Clock time of every open attempt. */
let attempts: number[];
let b: SocketCanBackend;
let binding: CanBinding;

beforeEach(() => {
  clock = new ManualClock();
  sink = new RecordingSink();
  link = UP;
  sockets = [];
  openError = null;
  attempts = [];
  binding = {
    open: (_ifname, options, onBatch) => {
      attempts.push(clock.now());
      if (openError) throw openError;
      const s = new Socket(options.fd, onBatch);
      sockets.push(s);
      return s;
    },
    probe: () => 0,
  };
  b = make();
});

function make(over: Partial<SocketCanBackendOptions> = {}): SocketCanBackend {
  return createSocketCanBackend({
    ifname: 'can0',
    bitrate: 50000,
    txQueueSize: 16,
    txMaxAge: 2000,
    now: clock.now,
    wallClock: () => 1_700_000_000_000 + clock.now(),
    timers: clock,
    loadBinding: () => binding,
    readLink: async () => link,
    readDetails: async () => null,
    ...over,
  });
}

/** Moves the clock `ms` forward, letting each look finish before the next is due. */
const run = (ms: number): Promise<void> => clock.settleThrough(ms);

describe('SocketCanBackend link lifecycle (manual clock)', () => {
  it('absent at start: reported absent, opened at the first poll after the interface appears, not counted as a reopen', async () => {
    link = ABSENT_LINK;
    await b.start(sink);
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'absent', detail: 'can0 does not exist' });
    await run(3 * POLL_MS);
    expect(sockets).toHaveLength(0);
    link = UP;
    await run(POLL_MS);
    expect(sink.state).toMatchObject({ backend: 'open', bus: 'error-active' });
    expect(sockets).toHaveLength(1);
    expect(b.counters().reopens).toBe(0);
    expect(sink.logs.find((l) => l.event === 'socketcan_open')?.fields).toMatchObject({ reopen: false });
  });

  it('link down while open: lost at the next watch look, TX refused; reopened at the first poll after it is up again', async () => {
    await b.start(sink);
    link = { ...UP, up: false, operstate: 'down' };
    await run(WATCH_MS);
    expect(sockets[0].closed).toBe(true);
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'down' });
    expect(sink.logs.filter((l) => l.event === 'socketcan_lost').map((l) => l.fields?.reason)).toEqual(['link down']);
    expect(b.send(makeFrame({ id: 0x10, data: [1] }), originOf(1))).toEqual({ ok: false, reason: 'link_down' });
    // While closed the link is looked at every poll interval.
    expect(clock.dueTimes()).toEqual([WATCH_MS + POLL_MS]);
    await run(2 * POLL_MS);
    expect(sockets).toHaveLength(1);
    link = UP;
    await run(POLL_MS);
    expect(sockets).toHaveLength(2);
    expect(sink.state).toMatchObject({ backend: 'open', bus: 'error-active' });
    expect(b.counters().reopens).toBe(1);
    expect(sink.logs.filter((l) => l.event === 'socketcan_open').map((l) => l.fields?.reopen)).toEqual([false, true]);
  });

  it('a socket error: reopened at the next poll with no backoff, and a late batch of the old socket is ignored', async () => {
    // A first backoff step far longer than the poll: the reopen must not wait for it.
    b = make({ reopenInitialMs: 2000 });
    await b.start(sink);
    await run(100);
    const old = sockets[0];
    old.onBatch(null, 0, 0, constants.errno.ENETDOWN);
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'down' });
    // The watch look due at 1000 is re-armed one poll interval after the loss.
    expect(clock.dueTimes()).toEqual([100 + POLL_MS]);
    await run(POLL_MS);
    expect(sockets).toHaveLength(2);
    expect(sink.state).toMatchObject({ backend: 'open' });
    old.onBatch(packBatch([{ frame: makeFrame({ id: 0x7, data: [7] }) }]), 1, 0, 0);
    old.onBatch(null, 0, 0, constants.errno.ENODEV);
    expect(sink.state).toMatchObject({ backend: 'open' });
    expect(sink.rx).toHaveLength(0);
    sockets[1].onBatch(packBatch([{ frame: makeFrame({ id: 0x8, data: [8] }) }]), 1, 0, 0);
    expect(sink.rx.map((r) => r.frame.id)).toEqual([0x8]);
    expect(b.counters().reopens).toBe(1);
  });

  it('the MTU changing to 72: lost, reopened as CAN FD at the next poll', async () => {
    await b.start(sink);
    expect(b.info.fd).toBe(false);
    link = { ...UP, mtu: 72 };
    await run(WATCH_MS);
    expect(sink.logs.filter((l) => l.event === 'socketcan_lost').map((l) => l.fields?.reason)).toEqual(['MTU changed to 72']);
    await run(POLL_MS);
    expect(sockets.map((s) => s.fd)).toEqual([false, true]);
    expect(b.info.fd).toBe(true);
  });

  it('an interface that is up yet takes no CAN_RAW socket: retried 250 ms doubling to 5 s, logged once with the hint', async () => {
    openError = Object.assign(new Error('Address family not supported by protocol'), { code: 'EAFNOSUPPORT' });
    await b.start(sink);
    expect(sink.state).toMatchObject({ backend: 'absent', detail: expect.stringMatching(/cannot open a CAN_RAW socket on can0/) });
    await run(16_000);
    // 250, 500, 1000, 2000, 4000, 5000, 5000: each try at the first poll at or after its step.
    expect(attempts).toEqual([0, 250, 750, 1750, 3750, 7750, 12750]);
    const logs = sink.logs.filter((l) => l.event === 'socketcan_open_failed');
    expect(logs).toHaveLength(1);
    expect(logs[0].fields).toMatchObject({ code: 'EAFNOSUPPORT', retry_ms: 250, hint: expect.stringMatching(/no SocketCAN.*modprobe can-raw/) });
    // The interface goes and comes back: tried at once, with the backoff from its start.
    link = ABSENT_LINK;
    await run(POLL_MS);
    openError = null;
    link = UP;
    await run(POLL_MS);
    expect(attempts.at(-1)).toBe(16_500);
    expect(sink.state).toMatchObject({ backend: 'open' });
  });
});
