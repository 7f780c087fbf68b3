// The bridge dialling a cannelloni TCP server (`cannelloni -C s`), played by the test from the
// spec: both sides send CANNELLONIv1 at once, then v1 frames.
import { CannelloniReader, encode, HELLO } from '../../../support/cannelloni-client.js';
import { runOutboundConformance } from '../../../support/outbound-conformance.js';

runOutboundConformance({
  name: 'cannelloni',
  config: (port) => ({ cannelloniConnect: { host: '127.0.0.1', port } }),
  serve(socket) {
    socket.write(HELLO);
    const reader = new CannelloniReader({ hello: true });
    return {
      receive(d) {
        const out: Array<{ id: number; data: number[] }> = [];
        reader.push(d, (f) => out.push({ id: f.id, data: [...f.buf.subarray(f.dataAt, f.dataAt + f.dataLen)] }));
        return out;
      },
      frame: (f) => encode(f),
    };
  },
});
