// The live-frame tap: each subscriber gets its buses and IDs, both directions, in batches;
// one whose sink is not ready gets its frames counted as dropped, never queued.
import { expect, it } from 'vitest';
import { frameOfLive, type FramesMessage, LiveFrames } from '../../../src/control/frame-stream.js';
import { makeFrame } from '../../../src/core/frame.js';

const can0 = { index: 0, name: 'can0' };
const can1 = { index: 1, name: 'can1' };
const origin = { session: 3, protocol: 'cannelloni' };

it('filters by bus and ID/mask, marks direction, and round-trips the frame', async () => {
  const tap = new LiveFrames(() => 0);
  const got: FramesMessage[] = [];
  tap.subscribe({ buses: [1], idValue: 0x1d000000, idMask: 0x1f000000 }, { ready: () => true, send: (m) => got.push(m) });
  const fd = makeFrame({ id: 0x1d0000aa, extended: true, fd: true, fdFlags: 1, data: Array.from({ length: 12 }, (_, i) => i), timestamp: 1000.5 });
  tap.received(can0, makeFrame({ id: 0x1d000001, extended: true, data: [1], timestamp: 1 }));
  tap.received(can1, makeFrame({ id: 0x1e000001, extended: true, data: [1], timestamp: 1 }));
  tap.received(can1, fd);
  tap.transmitted(can1, makeFrame({ id: 0x1d000002, extended: true, rtr: true, len: 4, timestamp: 2 }), origin);
  await new Promise((r) => setTimeout(r, 30));
  expect(got).toHaveLength(1);
  expect(got[0].frames.map((f) => [f[0], f[1], f[3]])).toEqual([
    [1, 1_000_500, 0],
    [1, 2000, 1],
  ]);
  expect(frameOfLive(got[0].frames[0])).toEqual(fd);
  expect(frameOfLive(got[0].frames[1])).toMatchObject({ len: 4, data: new Uint8Array(0) });
});

it('a sink that is not ready: frames counted as dropped, reported once it is ready again', async () => {
  const tap = new LiveFrames(() => 0);
  let ready = false;
  const got: FramesMessage[] = [];
  const stop = tap.subscribe({}, { ready: () => ready, send: (m) => got.push(m) });
  for (let i = 0; i < 1000; i++) tap.received(can0, makeFrame({ id: 0x100, data: [i & 255], timestamp: 1 }));
  await new Promise((r) => setTimeout(r, 30));
  expect(got).toHaveLength(0);
  ready = true;
  tap.received(can0, makeFrame({ id: 0x101, data: [], timestamp: 1 }));
  await new Promise((r) => setTimeout(r, 30));
  expect(got).toEqual([{ type: 'frames', frames: [expect.anything()], dropped: 1000 }]);
  stop();
  expect(tap.subscribers).toBe(0);
});
