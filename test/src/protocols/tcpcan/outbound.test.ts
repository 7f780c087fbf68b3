// The bridge dialling a tcpcan server (`tcpcan --serve`), played by the test from the wire
// format: the client says `v 1`, the server answers `v 1`, then `d` messages both ways.
import { tcpcanFrame, tcpcanVersion } from '../../../support/tcpcan-client.js';
import { runOutboundConformance } from '../../../support/outbound-conformance.js';

runOutboundConformance({
  name: 'tcpcan',
  config: (port) => ({ tcpcanConnect: { host: '127.0.0.1', port } }),
  serve(socket) {
    let buf = Buffer.alloc(0);
    let agreed = false;
    return {
      receive(d) {
        buf = Buffer.concat([buf, d]);
        const out: Array<{ id: number; data: number[] }> = [];
        while (buf.length >= 2 && buf.length >= 2 + buf[1]) {
          const type = buf[0];
          const payload = buf.subarray(2, 2 + buf[1]);
          buf = buf.subarray(2 + payload.length);
          if (type === 0x76 && !agreed) {
            agreed = payload.readUInt32BE(0) === 1;
            socket.write(tcpcanVersion(1));
          } else if (type === 0x64 && agreed) {
            out.push({ id: payload.readUInt32LE(0), data: [...payload.subarray(8, 8 + payload[4])] });
          } else throw new Error(`unexpected message ${type}`);
        }
        return out;
      },
      frame: (f) => tcpcanFrame(f),
    };
  },
});
