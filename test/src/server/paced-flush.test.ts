// Frames that a backend read by read pacing already waited in the kernel's queue: the
// sessions write them at the end of that read, not one more flush interval later. Frames
// from any other read keep waiting for their batch as usual.
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendSink, CanBackend, SendResult } from '../../../src/backends/types.js';
import { type CanFrame, makeFrame } from '../../../src/core/frame.js';
import { TestClient } from '../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../support/daemon.js';
import { until } from '../../support/until.js';

class HandBackend implements CanBackend {
  readonly info = { kind: 'virtual' as const, name: 'hand0', fd: false, bitrate: 125_000 };
  sink!: BackendSink;
  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    sink.stateChanged('open', 'error-active');
  }
  async stop(): Promise<void> {}
  send(_frame: CanFrame, _origin: number): SendResult {
    return { ok: true };
  }
  counters() {
    return { txQueueDepth: 0, reopens: 0 };
  }
}

let d: TestDaemon | null = null;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await d?.stop();
  d = null;
});

async function setup(): Promise<{ backend: HandBackend; client: TestClient }> {
  const backend = new HandBackend();
  // a flush interval far longer than the test: only the paced read's end can write early
  d = await startTestDaemon({ flushInterval: 60_000, batchSize: 4096 }, { backends: () => [backend] });
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
