// The bus on its own: counters, error-frame policy, TX stamping and the frame taps, with a
// backend the test drives by hand (its sink is the bus's).
import { describe, expect, it } from 'vitest';
import { Bus, type BusSettings } from '../../../src/bus/bus.js';
import type { FrameTap, TapOrigin } from '../../../src/core/frame-tap.js';
import { type CanFrame, makeFrame } from '../../../src/core/frame.js';
import type { HubSubscriber } from '../../../src/core/hub.js';
import { recordingLogger } from '../../support/daemon.js';
import { HandBackend } from '../../support/hand-backend.js';
import { originOf } from '../../support/origin.js';

async function makeBus(settings: Partial<BusSettings> = {}) {
  const backend = new HandBackend();
  const { log, records } = recordingLogger();
  const wall = { t: 1_700_000_000_000.5 };
  const clock = { t: 0 };
  const bus = new Bus({
    index: 0,
    backend,
    hubCapacity: 8,
    hubPolicy: 'drop',
    settings: () => ({ forwardErrors: true, echo: 'others', clientMaxLag: 2000, ...settings }),
    now: () => clock.t,
    wallClock: () => wall.t,
    log,
    emit: () => {},
  });
  await bus.start();
  return { bus, backend, records, wall, clock };
}

function recordingTap() {
  const seen: string[] = [];
  const tap: FrameTap = {
    received: (b, f) => void seen.push(`rx ${b.name} ${f.id.toString(16)} @${f.timestamp}`),
    transmitted: (b, f, o) => void seen.push(`tx ${b.name} ${f.id.toString(16)} from ${o.session}/${o.protocol} @${f.timestamp}`),
    refused: (_b, f, reason, o) => void seen.push(`refused ${f.id.toString(16)} ${reason} from ${o.session} @${f.timestamp}`),
  };
  return { tap, seen };
}

const origin7: TapOrigin = { session: 7, protocol: 'tcpcan' };

describe('Bus', () => {
  it('taps see received frames after the bus counted them, stamped when the backend gave no time', async () => {
    const { bus, backend } = await makeBus();
    const counts: number[] = [];
    const { tap, seen } = recordingTap();
    bus.addTap({ ...tap, received: (b, f) => (counts.push(bus.rxFrames), tap.received(b, f)) });
    backend.sink.received(makeFrame({ id: 0x10, data: [1], timestamp: 123.25 }));
    backend.sink.received(makeFrame({ id: 0x11, data: [2] }));
    backend.sink.received(makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }));
    expect(counts).toEqual([1, 2, 3]);
    expect(seen).toEqual(['rx hand0 10 @123.25', 'rx hand0 11 @1700000000000.5', 'rx hand0 20000040 @1700000000000.5']);
    expect(bus.errorFrames).toBe(1);
  });

  it('transmitted frames are stamped with the wall clock and carry their origin and its protocol', async () => {
    const { bus, backend } = await makeBus();
    const { tap, seen } = recordingTap();
    bus.addTap(tap);
    expect(bus.send(makeFrame({ id: 0x20, data: [1] }), origin7)).toEqual({ ok: true });
    const [{ frame, origin }] = backend.sent;
    backend.sink.transmitted(frame, origin);
    backend.sink.transmitted(makeFrame({ id: 0x21 }), originOf(0));
    expect(seen).toEqual(['tx hand0 20 from 7/tcpcan @1700000000000.5', 'tx hand0 21 from 0/null @1700000000000.5']);
    expect(bus.txFrames).toBe(2);
  });

  it('refused client frames reach the taps with the reason: error frames (filtered) and backend refusals', async () => {
    const { bus, backend } = await makeBus();
    const { tap, seen } = recordingTap();
    bus.addTap(tap);
    expect(bus.send(makeFrame({ id: 0x1, error: true, data: [] }), origin7)).toEqual({ ok: false, reason: 'filtered' });
    backend.refuse = { ok: false, reason: 'fd_unsupported' };
    expect(bus.send(makeFrame({ id: 0x2, data: [1] }), origin7)).toEqual({ ok: false, reason: 'fd_unsupported' });
    expect(seen).toEqual(['refused 20000001 filtered from 7 @1700000000000.5', 'refused 2 fd_unsupported from 7 @1700000000000.5']);
    expect(bus.txDrops).toEqual({ filtered: 1, fd_unsupported: 1 });
    expect(backend.sent).toHaveLength(0);
  });

  it('a tap that throws does not break the bus or other taps: counted per throw, logged once', async () => {
    const { bus, backend, records } = await makeBus();
    const { tap, seen } = recordingTap();
    bus.addTap({
      received: () => {
        throw new Error('disk full');
      },
      transmitted: () => {},
    });
    bus.addTap(tap);
    const got: number[] = [];
    const sub: HubSubscriber = { id: 1, queueDepth: () => 0, enqueue: (b) => void got.push(b[0]), dropped() {}, kick() {} };
    bus.hub.add(sub, { encode: (f) => Uint8Array.of(f.id) });
    for (let k = 0; k < 3; k++) backend.sink.received(makeFrame({ id: k, data: [] }));
    expect(got).toEqual([0, 1, 2]);
    expect(seen).toHaveLength(3);
    expect(bus.tapErrors).toBe(3);
    expect(records.filter((r) => r.event === 'tap_failed')).toHaveLength(1);
  });

  it('removing a tap stops its calls', async () => {
    const { bus, backend } = await makeBus();
    const { tap, seen } = recordingTap();
    const remove = bus.addTap(tap);
    backend.sink.received(makeFrame({ id: 1, data: [] }));
    remove();
    backend.sink.received(makeFrame({ id: 2, data: [] }));
    expect(seen).toHaveLength(1);
  });

  it('error frames reach the hub only with --forward-errors; echo goes to everyone but the sender', async () => {
    const { bus, backend } = await makeBus({ forwardErrors: false });
    const got: Array<[number, number]> = [];
    const mk = (id: number): HubSubscriber => ({ id, queueDepth: () => 0, enqueue: (b) => void got.push([id, b[0]]), dropped() {}, kick() {} });
    const enc = { encode: (f: CanFrame) => Uint8Array.of(f.id & 0xff) };
    bus.hub.add(mk(7), enc);
    bus.hub.add(mk(8), enc);
    backend.sink.received(makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }));
    backend.sink.transmitted(makeFrame({ id: 0x33, data: [] }), originOf(7));
    expect(got).toEqual([[8, 0x33]]);
  });
  it('a frame read more than --client-max-lag after the kernel got it goes to the taps, not to clients: counted, warned at most every 10 s', async () => {
    const { bus, backend, records, clock } = await makeBus({ clientMaxLag: 2000 });
    const got: number[] = [];
    bus.hub.add(
      { id: 1, queueDepth: () => 0, enqueue: (b) => void got.push(b[0]), dropped() {}, kick() {} },
      { encode: (f: CanFrame) => Uint8Array.of(f.id & 0xff) },
    );
    const { tap, seen } = recordingTap();
    bus.addTap(tap);
    backend.sink.received(makeFrame({ id: 0x1, timestamp: 1 }), 1999);
    backend.sink.received(makeFrame({ id: 0x2, timestamp: 2 }), 2001);
    backend.sink.received(makeFrame({ id: 0x3, timestamp: 3 }), 5000);
    backend.sink.received(makeFrame({ id: 0x4, timestamp: 4 }));
    expect(got).toEqual([0x1, 0x4]);
    expect(seen.filter((l) => l.startsWith('rx'))).toHaveLength(4);
    expect(bus.rxFrames).toBe(4);
    expect(bus.rxReadLate).toBe(2);
    const warnings = () => records.filter((r) => r.event === 'can_rx_read_late');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ count: 1, total: 1 });
    clock.t = 10_001;
    backend.sink.received(makeFrame({ id: 0x5, timestamp: 5 }), 2500);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ count: 2, total: 3 });
  });
});
