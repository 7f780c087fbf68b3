// When frames read from the bus reach the clients, with a backend the test drives by hand.
// Frames that a backend read by read pacing already waited in the kernel's queue: the
// sessions write them at the end of that read, not one more flush interval later. Frames
// from any other read keep waiting for their batch as usual. A frame read more than
// --client-max-lag after the kernel got it reaches no client.
import { afterEach, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/core/frame.js';
import { TestClient } from '../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../support/daemon.js';
import { HandBackend } from '../../support/hand-backend.js';
import { until } from '../../support/until.js';

let d: TestDaemon | null = null;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await d?.stop();
  d = null;
});

async function setup(config: Record<string, unknown> = { flushInterval: 60_000, batchSize: 4096 }): Promise<{ backend: HandBackend; client: TestClient }> {
  const backend = new HandBackend({ fd: false, reportOpen: true });
  // by default a flush interval far longer than the test: only the paced read's end can write early
  d = await startTestDaemon(config, { backends: () => [backend] });
  const client = await TestClient.connect(d.port());
  clients.push(client);
  await until(() => d!.daemon.snapshot().clients.length === 1, 'the client joined');
  return { backend, client };
}

describe('read pacing and the flush interval', () => {
  it('a paced read: its frames reach the client at the end of the read', async () => {
    const { backend, client } = await setup();
    backend.sink.pacedBatchStart?.();
    for (let n = 0; n < 5; n++) backend.sink.received(makeFrame({ id: 0x100 + n, data: [n] }));
    backend.sink.pacedBatchEnd?.();
    const got = await client.waitForFrames(5, 5000);
    expect(got.map((f) => f.id)).toEqual([0x100, 0x101, 0x102, 0x103, 0x104]);
  });

  it('an ordinary read: its frames wait for their batch (here: until shutdown flushes them)', async () => {
    const { backend, client } = await setup();
    backend.sink.received(makeFrame({ id: 0x200, data: [1] }));
    await new Promise((r) => setTimeout(r, 300));
    expect(client.frames).toHaveLength(0);
    await d!.stop();
    d = null;
    expect((await client.waitForFrames(1, 5000)).map((f) => f.id)).toEqual([0x200]);
  });
});

describe('frames the bridge read late', () => {
  it('a frame that waited longer than --client-max-lag in the kernel reaches no client: counted per bus, in drops and metrics', async () => {
    const { backend, client } = await setup({ clientMaxLag: 2000, flushInterval: 0 });
    backend.sink.received(makeFrame({ id: 0x300, data: [1] }), 2500);
    backend.sink.received(makeFrame({ id: 0x301, data: [2] }), 1500);
    const got = await client.waitForFrames(1, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((f) => f.id)).toEqual([0x301]);
    expect(client.frames).toHaveLength(1);
    const snap = d!.daemon.snapshot();
    expect(snap.buses[0]).toMatchObject({ rxFrames: 2, rxReadLate: 1 });
    expect(d!.daemon.counters().drops).toContainEqual({ bus: 'hand0', direction: 'to_clients', reason: 'read_late', count: 1 });
    expect(d!.records.some((l) => l.event === 'can_rx_read_late')).toBe(true);
  });
});
