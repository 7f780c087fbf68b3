// A socketcand RAW-mode reader for the load generator: `< hi >`, `< open can0 >`,
// `< rawmode >`, then ` < frame 00001000 SEC.USEC 0000002A12345678 >` messages, checked like
// the other readers (load-connection.ts: sequence per key, latency from the payload's send time).
// Parsed straight from the bytes (no strings per frame), so the generator stays cheaper than
// the bridge it measures even at 32 × 21,300 frames/s.
import { type LatencySink, LoadConnection } from './load-connection.js';
import type { ClientSpec } from './messages.js';
import { BUS_KEY_BASE, KEY_SPACE } from './wire.js';

const LT = 0x3c;
const GT = 0x3e;
const SP = 0x20;
/** hex digit value by byte, 255 for anything else */
const HEX = new Uint8Array(256).fill(255);
for (let k = 0; k < 10; k++) HEX[0x30 + k] = k;
for (let k = 0; k < 6; k++) HEX[0x41 + k] = HEX[0x61 + k] = 10 + k;

/** Up to 8 hex digits at buf[from, to) → number (>>> 0), or −1. */
function hexAt(buf: Buffer, from: number, to: number): number {
  let v = 0;
  for (let k = from; k < to; k++) {
    const d = HEX[buf[k]];
    if (d === 255) return -1;
    v = v * 16 + d;
  }
  return v;
}

export class SocketcandLoadConnection extends LoadConnection {
  /** Replies still awaited before frames: `< hi >`, then `< ok >` twice. */
  private handshake: string[] = ['< hi >', '< ok >', '< ok >'];
  /** A handshake reply split across reads. */
  private text = '';

  constructor(
    spec: ClientSpec,
    sink: LatencySink,
    private readonly bus = 'can0',
  ) {
    super(spec, sink);
  }

  protected negotiated(): boolean {
    return this.handshake.length === 0;
  }

  /** The handshake, one reply at a time; returns where the bytes after the last reply start. */
  private negotiate(buf: Buffer): number {
    let p = 0;
    while (this.handshake.length > 0) {
      const gt = buf.indexOf(GT, p);
      if (gt < 0) {
        this.text += buf.toString('latin1', p);
        return buf.length;
      }
      const msg = (this.text + buf.toString('latin1', p, gt + 1)).trim();
      this.text = '';
      p = gt + 1;
      const want = this.handshake.shift();
      if (msg !== want) throw new Error(`socketcand handshake: expected ${want}, got ${msg}`);
      if (this.handshake.length === 2) this.socket.write(`< open ${this.bus} >`);
      else if (this.handshake.length === 1) this.socket.write('< rawmode >');
    }
    return p;
  }

  protected parse(buf: Buffer): number {
    const end = buf.length;
    let p = this.handshake.length > 0 ? this.negotiate(buf) : 0;
    for (;;) {
      const lt = buf.indexOf(LT, p);
      if (lt < 0) return end;
      const gt = buf.indexOf(GT, lt);
      if (gt < 0) return lt;
      p = gt + 1;
      // `< frame ` ID ` ` SEC.USEC ` ` DATA ` >`
      const idStart = lt + 8;
      const idEnd = buf.indexOf(SP, idStart);
      const tsEnd = idEnd < 0 ? -1 : buf.indexOf(SP, idEnd + 1);
      const dataStart = tsEnd + 1;
      const dataEnd = gt - 1;
      if (buf[lt + 2] !== 0x66 || idEnd - idStart !== 8 || tsEnd < 0 || dataEnd - dataStart !== 16) {
        this.other++;
        continue;
      }
      const key = hexAt(buf, idStart, idEnd) - BUS_KEY_BASE;
      const seq = hexAt(buf, dataStart, dataStart + 8);
      if (key < 0 || key >= KEY_SPACE || seq < 0) {
        this.other++;
        continue;
      }
      this.sequenceFrame(key, seq, hexAt(buf, dataStart + 8, dataStart + 16));
    }
  }
}
