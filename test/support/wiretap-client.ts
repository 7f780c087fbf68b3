// A GVRET client that behaves like WireTAP's desktop over TCP, written from the protocol
// notes (not from WireTAP's code, nor from src/protocols/gvret):
// - connect: E7 E7, 100 ms later F1 07; no keepalives; probe: E7 E7, 50 ms, F1 0C, then
//   reads into a 256-byte buffer, looking after each read for F1 0C n anywhere in what it
//   read (0 or > 5 means 5); once more than 128 bytes were read without it, it gives up and
//   takes the device for one bus, as it does on no answer (the facts of
//   Wired-Square/WireTAP src-tauri/src/io/gvret/tcp.rs probe_gvret_tcp and common.rs
//   parse_numbuses_response);
// - parser: scans for F1; replies are skipped by assumed total lengths 01 = 6, 09 = 4,
//   06 = 12, 07 = 7 (one short of the real 8: the last byte is then skipped as noise), 0C = 3;
//   any other command drops the F1 and rescans; F1 00 frames carry the DLC *code* in the low
//   nibble of len|bus (9..15 = 12..64 bytes), no trailer expected;
// - TX: F1 00 id(4) bus len data, no trailer, standard ids masked to 11 bits.
import type net from 'node:net';
import { openSocket, StreamClient } from './stream-client.js';

const DLC_LEN = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];
const REPLY_LEN: Record<number, number> = { 0x01: 6, 0x09: 4, 0x06: 12, 0x07: 7, 0x0c: 3 };

export interface WireTapFrame {
  id: number;
  extended: boolean;
  bus: number;
  fd: boolean;
  data: Buffer;
  /** Wrapped µs timestamp as sent (WireTAP stamps frames with its own clock). */
  timestamp: number;
}

export class WireTapClient extends StreamClient {
  readonly frames: WireTapFrame[] = [];
  /** Replies seen, by command byte. */
  readonly replies = new Map<number, number>();
  /** Commands other than the known replies and frames (the F1 was dropped and rescanned). */
  unknownCommands = 0;
  numBuses: number | null = null;
  private buf: Buffer = Buffer.alloc(0);

  private constructor(socket: net.Socket) {
    super(socket);
  }

  private static async open(port: number, host: string): Promise<WireTapClient> {
    return new WireTapClient(await openSocket(port, { host, noDelay: true }));
  }

  /** WireTAP's connect: E7 E7, 100 ms, F1 07. */
  static async connect(port: number, host = '127.0.0.1'): Promise<WireTapClient> {
    const c = await WireTapClient.open(port, host);
    c.socket.write(Buffer.from([0xe7, 0xe7]));
    await new Promise((r) => setTimeout(r, 100));
    c.socket.write(Buffer.from([0xf1, 0x07]));
    return c;
  }

  /** A client that only enters binary mode (`E7 E7`) and listens. */
  static async listen(port: number, host = '127.0.0.1'): Promise<WireTapClient> {
    const c = await WireTapClient.open(port, host);
    c.socket.write(Buffer.from([0xe7, 0xe7]));
    return c;
  }

  /**
   * WireTAP's probe: the bus count as WireTAP reads it, then close. Each socket read stands for
   * one of its reads (at most what is left of its 256 bytes); 1 when the reply is not among
   * the first reads totalling more than 128 bytes, or does not come within `timeoutMs`.
   */
  static async probe(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<number> {
    const socket = await openSocket(port, { host, noDelay: true });
    const seen: number[] = [];
    const answer = new Promise<number>((resolve) => {
      const give = (n: number): void => {
        socket.removeAllListeners('data');
        resolve(n);
      };
      const timer = setTimeout(() => give(1), timeoutMs);
      socket.on('data', (d: Buffer) => {
        for (const b of d.subarray(0, 256 - seen.length)) seen.push(b);
        for (let i = 0; i + 2 < seen.length; i++) {
          if (seen[i] === 0xf1 && seen[i + 1] === 0x0c) {
            clearTimeout(timer);
            const n = seen[i + 2];
            return give(n === 0 || n > 5 ? 5 : n);
          }
        }
        if (seen.length > 128) {
          clearTimeout(timer);
          give(1);
        }
      });
    });
    socket.write(Buffer.from([0xe7, 0xe7]));
    await new Promise((r) => setTimeout(r, 50));
    socket.write(Buffer.from([0xf1, 0x0c]));
    const n = await answer;
    socket.destroy();
    return n;
  }

  /** WireTAP's TX: no trailer; standard ids masked to 11 bits; FD data sent with its byte count. */
  send(frame: { id: number; extended?: boolean; bus: number; data: ArrayLike<number> }): void {
    const id = frame.extended ? (frame.id | 0x80000000) >>> 0 : frame.id & 0x7ff;
    const out = Buffer.alloc(8 + frame.data.length);
    out[0] = 0xf1;
    out[1] = 0x00;
    out.writeUInt32LE(id, 2);
    out[6] = frame.bus;
    out[7] = frame.data.length;
    Buffer.from(Array.from(frame.data)).copy(out, 8);
    this.socket.write(out);
  }

  /** WireTAP closes by dropping the connection. */
  override close(): void {
    this.socket.destroy();
  }

  protected onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let p = 0;
    const b = this.buf;
    for (;;) {
      while (p < b.length && b[p] !== 0xf1) p++;
      if (b.length - p < 2) break;
      const op = b[p + 1];
      const replyLen = REPLY_LEN[op];
      if (replyLen !== undefined) {
        if (b.length - p < replyLen) break;
        if (op === 0x0c) this.numBuses = b[p + 2];
        this.replies.set(op, (this.replies.get(op) ?? 0) + 1);
        p += replyLen;
        continue;
      }
      if (op !== 0x00) {
        this.unknownCommands++;
        p += 1;
        continue;
      }
      if (b.length - p < 11) break;
      const payload = DLC_LEN[b[p + 10] & 0x0f];
      if (b.length - p < 11 + payload) break;
      const raw = b.readUInt32LE(p + 6);
      const extended = (raw & 0x80000000) !== 0;
      this.frames.push({
        id: raw & (extended ? 0x1fffffff : 0x7ff),
        extended,
        bus: b[p + 10] >> 4,
        fd: payload > 8,
        data: Buffer.from(b.subarray(p + 11, p + 11 + payload)),
        timestamp: b.readUInt32LE(p + 2),
      });
      p += 11 + payload;
    }
    this.buf = b.subarray(p);
  }
}
