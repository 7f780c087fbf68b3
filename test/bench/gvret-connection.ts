// A GVRET reader for the load generator: connects like SavvyCAN (its connect burst, a
// keepalive every 250 ms), counts as negotiated once the `F1 06` reply arrived (SavvyCAN's
// CONNECTED), then checks every `F1 00` frame's sequence payload as the other readers do
// (load-connection.ts).
import { LoadConnection } from './load-connection.js';
import { BUS_KEY_BASE, KEY_SPACE } from './wire.js';

const BURST = Buffer.from([0xe7, 0xe7, 0xf1, 0x0c, 0xf1, 0x06, 0xf1, 0x07, 0xf1, 0x01, 0xf1, 0x09]);
const KEEPALIVE = Buffer.from([0xf1, 0x09]);
/** Total lengths of the replies the burst and keepalives bring. */
const REPLY_LEN: Record<number, number> = { 0x01: 6, 0x06: 12, 0x07: 8, 0x09: 4, 0x0c: 3, 0x0d: 17 };

export class GvretLoadConnection extends LoadConnection {
  private keepalive: NodeJS.Timeout | null = null;
  connected = false;

  protected override greet(): void {
    this.socket.write(BURST);
    this.keepalive = setInterval(() => this.socket.write(KEEPALIVE), 250);
  }

  protected negotiated(): boolean {
    return this.connected;
  }

  protected override onClose(): void {
    if (this.keepalive) clearInterval(this.keepalive);
  }

  protected parse(buf: Buffer): number {
    const end = buf.length;
    let p = 0;
    while (p < end) {
      if (buf[p] !== 0xf1) {
        p++; // the trailer after a frame
        continue;
      }
      if (p + 2 > end) break;
      const cmd = buf[p + 1];
      if (cmd !== 0x00) {
        const len = REPLY_LEN[cmd];
        if (len === undefined) throw new Error(`unexpected GVRET command 0x${cmd.toString(16)}`);
        if (p + len > end) break;
        if (cmd === 0x06) this.connected = true;
        p += len;
        continue;
      }
      if (p + 11 > end) break;
      const len = buf[p + 10] & 0x0f;
      if (p + 11 + len > end) break;
      const key = (buf.readUInt32LE(p + 6) & 0x1fffffff) - BUS_KEY_BASE;
      if (len === 8 && key >= 0 && key < KEY_SPACE) this.sequenceFrame(key, buf.readUInt32BE(p + 11), buf.readUInt32BE(p + 15));
      else this.other++;
      p += 11 + len;
    }
    return p;
  }
}
