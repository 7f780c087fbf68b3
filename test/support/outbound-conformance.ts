// The conformance suite for outbound sessions (the bridge dials a server): the test plays the
// server, written from the protocol's spec, on 127.0.0.1. Used by
// test/src/protocols/<name>/outbound.test.ts of every protocol with `dial`.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../src/backends/virtual.js';
import type { Config } from '../../src/config/options.js';
import type { CanFrame } from '../../src/core/frame.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import type { PROTOCOLS } from '../../src/protocols/registry.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { until } from './until.js';

export interface ServedFrame {
  id: number;
  data: number[];
}

/** The server's side of one accepted connection, as the protocol's spec says. */
export interface ServerConnection {
  /** Bytes from the bridge; returns the frames complete so far (after the negotiation). */
  receive(d: Buffer): ServedFrame[];
  /** Bytes that put `f` on the wire toward the bridge. */
  frame(f: ServedFrame): Buffer;
}

export interface OutboundAdapter {
  name: keyof typeof PROTOCOLS;
  /** Config that makes the bridge dial 127.0.0.1:`port`. */
  config(port: number): Partial<Config>;
  /** Called on accept: the server's greeting is written to `socket` here or in receive(). */
  serve(socket: net.Socket): ServerConnection;
}

/** A server the test controls: accepts, records frames, can drop every connection and stop listening. */
class PlayedServer {
  readonly frames: ServedFrame[] = [];
  readonly sockets = new Set<net.Socket>();
  accepted = 0;
  private server: net.Server | null = null;
  port = 0;
  constructor(private readonly adapter: OutboundAdapter) {}

  async listen(port = 0): Promise<void> {
    const server = net.createServer((socket) => {
      this.accepted++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      const conn = this.adapter.serve(socket);
      socket.on('data', (d) => this.frames.push(...conn.receive(d)));
      (socket as net.Socket & { conn?: ServerConnection }).conn = conn;
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  send(f: ServedFrame): void {
    for (const s of this.sockets) s.write((s as net.Socket & { conn?: ServerConnection }).conn!.frame(f));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

const frame = (id: number, data: number[]): CanFrame => ({ id, len: data.length, data: Uint8Array.from(data), fd: false, fdFlags: 0, timestamp: 0 });

export function runOutboundConformance(adapter: OutboundAdapter): void {
  let running: TestDaemon | null = null;
  const servers: PlayedServer[] = [];

  afterEach(async () => {
    await running?.stop();
    running = null;
    for (const s of servers.splice(0)) await s.stop();
  });

  async function start() {
    const server = new PlayedServer(adapter);
    servers.push(server);
    await server.listen();
    let bus!: VirtualBackend;
    const d = await startTestDaemon(adapter.config(server.port), {
      backends: (c) => [
        (bus = createVirtualBackend({
          name: 'vbus0',
          index: 0,
          rate: 0,
          payload: 'ampio',
          bitrate: c.bitrate,
          fd: true,
          now: () => performance.now(),
          wallClock: () => Date.now(),
        })),
      ],
    });
    running = d;
    const onBus: CanFrame[] = [];
    d.daemon.bus(0)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus.push(f) });
    const connected = (n = 1) => until(() => d.daemon.snapshot().clients.length === n && server.sockets.size === n, 'the bridge connected', 10_000);
    return { d, bus, onBus, server, connected };
  }

  describe(`${adapter.name}: outbound session conformance (the test plays the server)`, () => {
    it('dials the server and shows it as a client with direction out, in status and metrics', async () => {
      const { d, connected, server } = await start();
      await connected();
      const snap = d.daemon.snapshot();
      expect(snap.clients[0]).toMatchObject({ protocol: adapter.name, direction: 'out', remote: `127.0.0.1:${server.port}` });
      expect(snap.outbound).toEqual([
        expect.objectContaining({ protocol: adapter.name, bus: 'vbus0', target: `127.0.0.1:${server.port}`, state: 'up', connects: 1 }),
      ]);
      expect(d.records.filter((r) => r.event === 'outbound_connected')).toHaveLength(1);
      const text = await createMetricsRegistry({ source: d.daemon, build: { version: 'x', commit: null, date: null } }).metrics();
      expect(text).toContain(`outbound_up{protocol="${adapter.name}",bus="vbus0",target="127.0.0.1:${server.port}"} 1`);
    });

    it('frames flow both ways', async () => {
      const { bus, onBus, server, connected } = await start();
      await connected();
      bus.inject(frame(0x123, [1, 2, 3]));
      await until(() => server.frames.length === 1, 'the frame at the server');
      expect(server.frames).toEqual([{ id: 0x123, data: [1, 2, 3] }]);
      server.send({ id: 0x321, data: [9] });
      await until(() => onBus.length === 1, 'the frame on the bus');
      expect([onBus[0].id, [...onBus[0].data]]).toEqual([0x321, [9]]);
    });

    it('server gone: one log line per state change, reconnect within the backoff, nothing from the down time replayed', { timeout: 30_000 }, async () => {
      const { d, bus, server, connected } = await start();
      await connected();
      const port = server.port;
      await server.stop();
      await until(() => d.daemon.snapshot().outbound?.[0].state === 'down', 'the link down');
      bus.inject(frame(0x1, [1])); // while down: must never arrive
      // 1 s, then 2 s: two failed attempts while the server is away.
      await until(() => (d.daemon.snapshot().outbound?.[0].failures ?? 0) >= 2, 'two failed attempts', 10_000);
      expect(d.records.filter((r) => r.event === 'outbound_down')).toHaveLength(1);
      await server.listen(port);
      await connected();
      bus.inject(frame(0x2, [2]));
      await until(() => server.frames.length === 1, 'the frame after the reconnect', 10_000);
      expect(server.frames.map((f) => f.id)).toEqual([0x2]);
      expect(d.records.filter((r) => r.event === 'outbound_connected')).toHaveLength(2);
      expect(d.records.filter((r) => r.event === 'outbound_down')).toHaveLength(1);
      expect(d.daemon.snapshot().outbound?.[0]).toMatchObject({ state: 'up', connects: 2 });
    });
  });
}
