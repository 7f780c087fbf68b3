// The session layer with a protocol that serves every bus from one listener (as socketcand and
// GVRET will): a session joined to two buses gets both buses' frames, batched and flushed
// whichever bus started the batch; leave() stops a bus. Real TCP on 127.0.0.1:0, virtual buses.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../../src/backends/virtual.js';
import { Bus } from '../../../src/bus/bus.js';
import { makeFrame } from '../../../src/core/frame.js';
import { encodeFrame } from '../../../src/protocols/cannelloni/codec.js';
import type { SessionPeer, WireProtocol } from '../../../src/protocols/types.js';
import { FlushScheduler } from '../../../src/server/flush-scheduler.js';
import { Sessions } from '../../../src/server/sessions.js';
import { CannelloniReader } from '../../support/cannelloni-client.js';
import { recordingLogger, testConfig } from '../../support/daemon.js';
import { until } from '../../support/until.js';

/** A test protocol: any first byte is the hello; `l` leaves bus 1. Frames in cannelloni's encoding. */
const twoBus: WireProtocol = {
  name: 'twobus',
  layout: 'shared',
  encoder: { encode: encodeFrame },
  open(peer: SessionPeer) {
    let ready = false;
    return {
      greeting: () => null,
      receive(chunk) {
        if (!ready) {
          ready = peer.ready();
          for (const b of peer.buses) peer.join(b.index);
        } else if (chunk.includes(0x6c)) peer.leave(1);
      },
    };
  },
};

let sessions: Sessions | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await sessions?.stopListening();
  await sessions?.closeAll(200);
  sessions = null;
});

async function setup(flushInterval: number) {
  const { log } = recordingLogger();
  const backends: VirtualBackend[] = [0, 1].map((index) =>
    createVirtualBackend({
      name: `v${index}`,
      index,
      rate: 0,
      payload: 'ampio',
      bitrate: 125_000,
      fd: true,
      now: () => performance.now(),
      wallClock: () => Date.now(),
    }),
  );
  const settings = testConfig({
    maxClients: 0,
    batchSize: 64,
    flushInterval,
    handshakeTimeout: 2000,
    clientReadTimeout: 0,
    forwardErrors: true,
    echo: 'others',
  });
  const schedulers = backends.map(() => new FlushScheduler(() => performance.now()));
  const buses = backends.map(
    (backend, index) =>
      new Bus({
        index,
        backend,
        hubCapacity: 512,
        hubPolicy: 'drop',
        settings: () => settings,
        now: () => performance.now(),
        wallClock: () => Date.now(),
        log,
        emit: () => {},
        pacing: schedulers[index].pacing,
      }),
  );
  for (const b of buses) await b.start();
  sessions = new Sessions({
    buses,
    schedulers,
    protocols: [{ protocol: twoBus, address: { host: '127.0.0.1', port: 0 } }],
    capacity: 512,
    settings: () => settings,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    log,
    emit: () => {},
    keepAliveMs: 10_000,
  });
  await sessions.listen();
  const [listener] = sessions.listenerInfo();
  expect(listener).toMatchObject({ protocol: 'twobus', bus: null });
  const socket = net.connect({ port: listener.port, host: '127.0.0.1' });
  sockets.push(socket);
  // The test protocol sends no hello: frames from the first byte.
  const reader = new CannelloniReader({ hello: false });
  const received: number[] = [];
  socket.on('data', (d: Buffer) => reader.push(d, (f) => received.push(f.id)));
  await new Promise((r) => socket.once('connect', r));
  socket.write('h');
  const s = sessions;
  await until(() => [...s.sessions()].some((x) => x.isHandshaken && x.joined.size === 2));
  /** Ids of the frames received so far. */
  const ids = (): number[] => received;
  return { backends, socket, ids };
}

const waitUntil = (cond: () => boolean, timeoutMs = 3000): Promise<void> => until(cond, 'the condition', timeoutMs);

describe('a session on two buses', () => {
  for (const flushInterval of [0, 20]) {
    it(`gets the frames of both buses, each in bus order (--flush-interval ${flushInterval})`, async () => {
      const { backends, ids } = await setup(flushInterval);
      for (let n = 0; n < 100; n++) backends[n % 2].inject(makeFrame({ id: (n % 2) * 0x100 + n, data: [n] }));
      await waitUntil(() => ids().length === 100);
      expect(ids().filter((id) => id < 0x100)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * k));
      expect(ids().filter((id) => id >= 0x100)).toEqual(Array.from({ length: 50 }, (_, k) => 0x100 + 2 * k + 1));
    });
  }

  it('a batch started by one bus also carries, and flushes, the frames of the other', async () => {
    const { backends, ids } = await setup(20);
    backends[0].inject(makeFrame({ id: 0x1, data: [] }));
    backends[1].inject(makeFrame({ id: 0x2, data: [] }));
    await waitUntil(() => ids().length === 2);
    // bus 1 alone now starts a batch of its own
    backends[1].inject(makeFrame({ id: 0x3, data: [] }));
    await waitUntil(() => ids().length === 3);
    expect(ids()).toEqual([1, 2, 3]);
  });

  it('leave() stops the frames of that bus only', async () => {
    const { backends, socket, ids } = await setup(0);
    socket.write('l');
    await waitUntil(() => [...sessions!.sessions()].every((x) => x.joined.size === 1));
    backends[1].inject(makeFrame({ id: 0x201, data: [] }));
    backends[0].inject(makeFrame({ id: 0x001, data: [] }));
    await waitUntil(() => ids().length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(ids()).toEqual([0x001]);
    expect(backends.map((_, i) => sessions!.buses[i].hub.size)).toEqual([1, 0]);
  });
});
