// Stress, as issue 2 asks: 64 clients for 10 s at 20,000 frames/s from the virtual bus.
// The daemon runs as its own process (the built CLI), so the clients' decoding does not
// steal its event loop. Every client must receive every frame, in order, with no
// duplicates: checked with the sequence numbers the virtual bus puts in each payload.
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { BridgeChild } from '../support/bridge-child.js';
import { CannelloniReader, HELLO } from '../support/cannelloni-client.js';

const CLIENTS = 64;
const RATE = 20_000;
const SECONDS = 10;

interface SeqClient {
  socket: net.Socket;
  first: number;
  last: number;
  count: number;
  violations: number;
  helloOk: boolean;
  /** Bytes that are not cannelloni frames (the reader stops there). */
  protocolError: string | null;
}

let daemon: BridgeChild | null = null;
afterAll(async () => {
  await daemon?.stop();
});

/**
 * A reader of the sequence payload (bytes 0-3 the sequence number) through the tests'
 * spec-written cannelloni reader, reading numbers in place: 64 clients at 20,000 frames/s
 * in this process must stay cheaper than the daemon they check.
 */
function connect(port: number): Promise<SeqClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const c: SeqClient = { socket, first: -1, last: -1, count: 0, violations: 0, helloOk: false, protocolError: null };
    const reader = new CannelloniReader();
    socket.on('data', (d: Buffer) => {
      reader.push(d, (f) => {
        if (f.fd || f.dataLen !== 8) {
          c.violations++;
          return;
        }
        const seq = f.buf.readUInt32BE(f.dataAt);
        if (c.first < 0) c.first = seq;
        else if (seq !== (c.last + 1) >>> 0) c.violations++;
        c.last = seq;
        c.count++;
      });
      c.helloOk = reader.hello?.equals(HELLO) === true;
      c.protocolError = reader.error;
    });
    socket.once('connect', () => {
      socket.write(HELLO);
      resolve(c);
    });
    socket.once('error', reject);
  });
}

it(`${CLIENTS} clients × ${SECONDS} s at ${RATE} frames/s: every frame, in order, no duplicates`, async () => {
  daemon = await BridgeChild.start({
    args: [
      '--backend',
      'virtual',
      '--virtual-rate',
      String(RATE),
      '--virtual-payload',
      'sequence',
      '--listen',
      '127.0.0.1:0',
      // 64 clients from one host, connecting at once: beyond the per-host shares a LAN needs.
      '--max-clients-per-host',
      '0',
      '--max-pending-per-host',
      '1024',
    ],
  });
  const port = daemon.port('cannelloni');

  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(port)));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const exited = daemon.stop();
  await Promise.all(clients.map((c) => new Promise((r) => (c.socket.closed ? r(null) : c.socket.once('close', r)))));
  const elapsed = (Date.now() - t0) / 1000;
  const code = await exited;
  if (code !== 0) console.log(daemon.records.map((l) => JSON.stringify(l)).join('\n'));
  expect(code).toBe(0);

  const summary = daemon.events('shutdown_summary')[0];
  const total = clients.reduce((n, c) => n + c.count, 0);
  const last = Math.max(...clients.map((c) => c.last));
  console.log(
    `stress: ${CLIENTS} clients, ${elapsed.toFixed(1)} s, bus frames ${summary.rx_frames}, ` +
      `delivered ${total} (${Math.round(total / elapsed)} frames/s), per client min ${Math.min(...clients.map((c) => c.count))} max ${Math.max(...clients.map((c) => c.count))}, hub drops ${summary.hub_drops}`,
  );
  expect(summary.hub_drops).toBe(0);
  expect(Number(summary.rx_frames)).toBeGreaterThan(RATE * SECONDS * 0.8);
  for (const c of clients) {
    expect(c.helloOk).toBe(true);
    expect(c.protocolError).toBeNull();
    expect(c.violations).toBe(0);
    // Everything from the first frame it saw up to the last frame on the bus, nothing missing.
    expect(c.last).toBe(last);
    expect(c.count).toBe(c.last - c.first + 1);
  }
}, 60_000);
