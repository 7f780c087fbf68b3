// The live view under a full bus: 21,300 frames/s (a saturated 1 Mbit/s bus of 8-byte
// extended frames is about 8,000; this is the bench's top virtual rate) with one event-stream
// viewer that stops reading and one that reads. The bridge's cannelloni client loses
// nothing (every sequence number, in order); the stalled viewer's losses are counted for it
// alone; the bridge's memory stays bounded (the viewer queue and socket buffer are capped).
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { BridgeChild } from '../support/bridge-child.js';
import { CannelloniReader, HELLO } from '../support/cannelloni-client.js';

const RATE = 21_300;
const SECONDS = 10;

let daemon: BridgeChild | null = null;
afterAll(async () => {
  await daemon?.stop();
});

interface SeqClient {
  socket: net.Socket;
  first: number;
  last: number;
  count: number;
  violations: number;
}

function cannelloni(port: number): Promise<SeqClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const c: SeqClient = { socket, first: -1, last: -1, count: 0, violations: 0 };
    const reader = new CannelloniReader();
    socket.on('data', (d: Buffer) =>
      reader.push(d, (f) => {
        const seq = f.buf.readUInt32BE(f.dataAt);
        if (c.first < 0) c.first = seq;
        else if (seq !== (c.last + 1) >>> 0) c.violations++;
        c.last = seq;
        c.count++;
      }),
    );
    socket.once('connect', () => {
      socket.write(HELLO);
      resolve(c);
    });
    socket.once('error', reject);
  });
}

/** An event-stream reader of /api/live; `stall` stops reading once the headers are in. */
function viewer(port: number, stall: boolean): Promise<{ socket: net.Socket; bytes: () => number; frames: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let bytes = 0;
    let frames = 0;
    let text = '';
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      if (stall) {
        socket.pause();
        return;
      }
      text += d.toString('latin1');
      // Count rows by their direction field; keep only the unfinished tail.
      const cut = text.lastIndexOf('\n');
      if (cut >= 0) {
        frames += text.slice(0, cut).split('"rx"').length - 1;
        text = text.slice(cut + 1);
      }
    });
    socket.once('connect', () => {
      socket.write(`GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
      resolve({ socket, bytes: () => bytes, frames: () => frames });
    });
    socket.once('error', reject);
  });
}

interface WebSection {
  liveViewers: number;
  liveSent: number;
  liveDropped: number;
}

async function webSection(base: string): Promise<WebSection> {
  return ((await (await fetch(`${base}/api/snapshot`)).json()) as { web: WebSection }).web;
}

it(`${RATE} frames/s with a live viewer that stops reading: the bus client loses nothing, the viewer's drops are counted, memory stays bounded`, async () => {
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
      '--http-listen',
      '127.0.0.1:0',
      '--ampio=false',
    ],
  });
  const http = Number(String(daemon.events('metrics_listen')[0].addr).split(':').pop());
  const base = `http://127.0.0.1:${http}`;
  const client = await cannelloni(daemon.port('cannelloni'));
  const stalled = await viewer(http, true);
  const reading = await viewer(http, false);
  await new Promise((r) => setTimeout(r, 3000));
  const rssEarly = daemon.rssBytes() / 1024;
  const mid = await webSection(base);
  await new Promise((r) => setTimeout(r, (SECONDS - 3) * 1000));
  const rssLate = daemon.rssBytes() / 1024;
  const end = await webSection(base);
  const readingFrames = reading.frames();
  stalled.socket.destroy();
  reading.socket.destroy();
  const code = await daemon.stop();
  const bridgeRecords = daemon.records;
  daemon = null;
  expect(code).toBe(0);
  await new Promise((r) => (client.socket.closed ? r(null) : client.socket.once('close', r)));
  // Each viewer's own figures, from the line the bridge logs when its stream ends.
  const closes = bridgeRecords.filter((r) => r.event === 'web_live_close').map((r) => ({ sent: Number(r.sent), dropped: Number(r.dropped) }));
  expect(closes).toHaveLength(2);
  const [lossy, fine] = [...closes].sort((a, b) => b.dropped - a.dropped);

  console.log(
    `web live stress: ${RATE} frames/s × ${SECONDS} s; cannelloni client ${client.count} frames, ${client.violations} gaps; ` +
      `stalled viewer read ${stalled.bytes()} bytes, viewers' drops ${end.liveDropped} (at 3 s: ${mid.liveDropped}); reading viewer ${readingFrames} frames (bridge: ${fine.sent} sent, ${fine.dropped} dropped), stalled viewer (bridge: ${lossy.sent} sent, ${lossy.dropped} dropped); ` +
      `daemon RSS ${Math.round(rssEarly / 1024)} MiB at 3 s → ${Math.round(rssLate / 1024)} MiB at ${SECONDS} s`,
  );
  // The bus client: every frame from its first to the last, in order.
  expect(client.violations).toBe(0);
  expect(client.count).toBe(client.last - client.first + 1);
  expect(client.count).toBeGreaterThan(RATE * SECONDS * 0.5);
  // Both viewers were there; the stalled one lost frames (counted), and it alone.
  expect(end.liveViewers).toBe(2);
  expect(end.liveDropped).toBeGreaterThan(RATE);
  expect(end.liveDropped).toBeGreaterThan(mid.liveDropped);
  expect(lossy.dropped).toBeGreaterThan(RATE * SECONDS * 0.4);
  // The reading viewer got far more than the stalled one was sent before it stopped.
  expect(fine.sent).toBeGreaterThan(lossy.sent * 2);
  expect(readingFrames).toBeGreaterThan(RATE * (SECONDS - 3) * 0.5);
  // Bounded: the stalled viewer holds at most its queue and a capped socket buffer.
  expect(rssLate - rssEarly).toBeLessThan(40 * 1024);
}, 60_000);
