// cannelloni over real TCP: a frame without the EFF flag whose id needs more than 11 bits is
// refused and counted as malformed, never masked to 11 bits (0x900 would reach the bus as
// 0x100, another device's id). The frame is read whole, so the connection goes on.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend } from '../../../../src/backends/virtual.js';
import type { CanFrame } from '../../../../src/core/frame.js';
import { encode, TestClient } from '../../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../../support/daemon.js';
import { until } from '../../../support/until.js';

let running: TestDaemon | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.stop();
  running = null;
});

async function start() {
  const d = await startTestDaemon(
    {},
    {
      backends: (c) => [
        createVirtualBackend({
          name: 'vbus0',
          index: 0,
          rate: 0,
          payload: 'ampio',
          bitrate: c.bitrate,
          fd: true,
          now: () => performance.now(),
          wallClock: () => Date.now(),
        }),
      ],
    },
  );
  running = d;
  const onBus: CanFrame[] = [];
  d.daemon.bus(0)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus.push(f) });
  return { d, onBus };
}

describe('cannelloni: standard ids', () => {
  it('0x900 without EFF is refused and counted (malformed); the frames around it reach the bus; the client stays', async () => {
    const { d, onBus } = await start();
    const c = await TestClient.connect(d.port(0));
    clients.push(c);
    const other = await TestClient.connect(d.port(0));
    clients.push(other);
    c.send(encode({ id: 0x7ff, data: [1] }), encode({ id: 0x900, data: [2, 2] }), encode({ id: 0x123, data: [3] }));
    await until(() => onBus.length >= 2, 'the two valid frames on the bus');
    await other.until(() => other.frames.length >= 2, 5000, 'the echo of the valid frames');
    expect(onBus.map((f) => [f.id >>> 0, Array.from(f.data)])).toEqual([
      [0x7ff, [1]],
      [0x123, [3]],
    ]);
    expect(other.frames.map((f) => f.id)).toEqual([0x7ff, 0x123]);
    const snap = d.daemon.snapshot();
    expect(snap.totals.malformed).toBe(1);
    expect(d.records.find((r) => r.event === 'malformed_frame')).toMatchObject({ reason: 'sff_id' });
    expect(c.closed).toBe(false);
    expect(snap.clients).toHaveLength(2);
  });

  it('the same id with EFF is an extended frame and passes; RTR and FD follow the same rule', async () => {
    const { d, onBus } = await start();
    const c = await TestClient.connect(d.port(0));
    clients.push(c);
    c.send(
      encode({ id: (0x80000000 | 0x900) >>> 0, data: [1] }),
      encode({ id: 0xfff, rtr: true, len: 2 }),
      encode({ id: 0x1000, fd: true, data: new Array(12).fill(5) }),
      encode({ id: 0x7ff, fd: true, data: new Array(12).fill(6) }),
    );
    await until(() => onBus.length >= 2, 'the valid frames on the bus');
    await until(() => d.daemon.snapshot().totals.malformed === 2, 'two refusals counted');
    expect(onBus.map((f) => f.id >>> 0)).toEqual([(0x80000000 | 0x900) >>> 0, 0x7ff]);
  });
});
