// A Waveshare 2-CH-CAN-TO-ETH reader for the load generator: no handshake, then 13-byte
// records (flags/DLC, id BE, 8 data bytes), checked like the other readers
// (load-connection.ts: sequence per key, latency from the payload's send time).
import { LoadConnection } from './load-connection.js';
import { BUS_KEY_BASE, KEY_SPACE } from './wire.js';

const RECORD = 13;

export class WaveshareLoadConnection extends LoadConnection {
  protected negotiated(): boolean {
    return true;
  }

  protected parse(buf: Buffer): number {
    let p = 0;
    for (; p + RECORD <= buf.length; p += RECORD) {
      const head = buf[p];
      const key = buf.readUInt32BE(p + 1) - BUS_KEY_BASE;
      // extended, not remote, 8 bytes: a sequence frame
      if ((head & 0xcf) === 0x88 && key >= 0 && key < KEY_SPACE) this.sequenceFrame(key, buf.readUInt32BE(p + 5), buf.readUInt32BE(p + 9));
      else this.other++;
    }
    return p;
  }
}
