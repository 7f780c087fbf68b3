// GVRET through the shared protocol conformance suite (cannelloni as the other protocol),
// with the WireTAP-style client written from the spec (GVRET has no RTR or error-frame form,
// and its FD forms lose the BRS/ESI flags, so the suite runs it on classic frames).
import { cannelloniAdapter } from '../../../support/cannelloni-client.js';
import { type ConformanceAdapter, type ConformanceClient, runConformance, type SpecFrame } from '../../../support/protocol-conformance.js';
import { conformanceView } from '../../../support/stream-client.js';
import { WireTapClient } from '../../../support/wiretap-client.js';

const EFF = 0x80000000;
const MODE_AND_INFO = Buffer.from([0xe7, 0xe7, 0xf1, 0x07]);

/** A TX frame as WireTAP sends it: F1 00 id bus len data, no trailer. */
function txFrame(f: SpecFrame): Buffer {
  const out = Buffer.alloc(8 + f.data.length);
  out[0] = 0xf1;
  out.writeUInt32LE(f.id >>> 0, 2);
  out[6] = 0; // bus 0
  out[7] = f.data.length;
  Buffer.from(f.data).copy(out, 8);
  return out;
}

function asConformanceClient(c: WireTapClient): ConformanceClient {
  return conformanceView(
    c,
    () => c.frames.map((f) => ({ id: (f.extended ? f.id | EFF : f.id) >>> 0, len: f.data.length, fd: f.fd, flags: 0, data: f.data })),
    (frames) => void c.socket.write(Buffer.concat(frames.map(txFrame))),
  );
}

export const gvretAdapter: ConformanceAdapter = {
  name: 'gvret',
  config: { gvretListen: { host: '127.0.0.1', port: 0 } },
  flags: ['--gvret-listen', '127.0.0.1:0'],
  port: (d) => d.daemon.port(0, 'gvret'),
  carries: { fd: false, rtr: false, errorFrames: false },
  connect: async (port) => {
    const c = await WireTapClient.connect(port);
    await c.until(() => c.replies.get(0x07) === 1, 5000, 'the F1 07 reply');
    return asConformanceClient(c);
  },
  // Neither E7 nor F1 in the first 64 bytes: not a GVRET client.
  badHello: Buffer.alloc(64, 0x41),
  hello: MODE_AND_INFO,
  // WireTAP's bus-count probe alone, before any E7: a client that asks and leaves.
  probe: Buffer.from([0xf1, 0x0c]),
  clientStream: (frames) => Buffer.concat([MODE_AND_INFO, ...frames.map(txFrame)]),
  malformed: Buffer.alloc(256, 0x00),
};

runConformance(gvretAdapter, { partner: cannelloniAdapter });
