// What every connection of the load generator shares, whatever its protocol: the TCP
// connection (reads decoded straight out of one reused buffer: no allocation and no stream
// machinery per read, so the generator stays far cheaper than the bridge it measures), the
// bytes a read leaves unfinished, and the check of each sequence frame (per key: gaps,
// ordering) with the latency from the send time in its payload to the moment the read that
// carried it was handled. All frames of one read share that moment: it is when this process
// could first see them. Each protocol's connection only parses its wire format.
import net from 'node:net';
import type { ClientResult, ClientSpec } from './messages.js';
import { KEY_SPACE, wallMicros32 } from './wire.js';

const EMPTY = Buffer.alloc(0);
const READ_BUFFER = 64 * 1024;

/** Where a connection records latency (one histogram for all connections of the process). */
export interface LatencySink {
  measuring(): boolean;
  /** `count` frames of one read with the same latency in µs (above 2^31: sent "after" it was read, clocks apart). */
  record(us: number, count: number): void;
}

export abstract class LoadConnection {
  socket!: net.Socket;
  closed = false;
  localPort = 0;
  /** Sequence frames received in the window. */
  frames = 0;
  gaps = 0;
  violations = 0;
  /** Frames or messages that were not sequence frames. */
  other = 0;
  sent = 0;
  /** Next expected sequence number per key (−1: nothing seen yet). */
  private readonly expected = new Float64Array(KEY_SPACE).fill(-1);
  /** A partial message, copied out: the read buffer is overwritten by the next read. */
  private carry: Buffer = EMPTY;
  // The read being handled: its moment, and the run of equal latencies not yet recorded.
  private readAt = 0;
  private measuringRead = false;
  private lastLatency = -1;
  private sameLatency = 0;

  constructor(
    readonly spec: ClientSpec,
    protected readonly sink: LatencySink,
  ) {}

  /** Connects, greets, and resolves once the protocol's negotiation is done (a stalled client: at once). */
  connect(): Promise<void> {
    const reads = this.spec.role !== 'stall';
    this.socket = net.connect({
      port: this.spec.port,
      host: '127.0.0.1',
      noDelay: true,
      ...(reads ? { onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => this.onBytes(buf as Buffer, n) } } : {}),
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.onClose();
    });
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.localPort = this.socket.localPort ?? 0;
        this.greet();
        if (!reads) {
          // Never read: the kernel buffers fill up and the bridge must cope on its side.
          this.socket.pause();
          resolve();
          return;
        }
        const check = (): void => (this.negotiated() ? resolve() : void setTimeout(check, 5));
        check();
      });
      this.socket.once('error', reject);
    });
  }

  /** What the client says first, once connected. */
  protected greet(): void {}

  /** Whether the negotiation is over and frames flow. */
  protected abstract negotiated(): boolean;

  protected onClose(): void {}

  /**
   * Parses the complete messages at the start of `buf`: calls sequenceFrame() for each
   * sequence frame, counts `other` for the rest, and returns how many bytes it used.
   */
  protected abstract parse(buf: Buffer): number;

  /** Sends `n` sequence frames (role `send`); readers send nothing. */
  send(_n: number): void {}

  stop(): void {
    this.socket?.destroy();
  }

  resetCounters(): void {
    this.frames = this.gaps = this.violations = this.other = this.sent = 0;
  }

  /** A sequence frame of key `key` (0..KEY_SPACE−1): payload seq and send time (µs, low 32 bits). */
  protected sequenceFrame(key: number, seq: number, sentUs: number): void {
    const want = this.expected[key];
    if (want >= 0 && seq !== want) {
      if (seq > want) this.gaps += seq - want;
      else this.violations++;
    }
    this.expected[key] = seq + 1;
    this.frames++;
    if (!this.measuringRead) return;
    const us = (this.readAt - sentUs) >>> 0;
    // Frames of one write usually share a send time: record them as one run.
    if (us === this.lastLatency) this.sameLatency++;
    else {
      if (this.sameLatency > 0) this.sink.record(this.lastLatency, this.sameLatency);
      this.lastLatency = us;
      this.sameLatency = 1;
    }
  }

  /** `n` new bytes at the start of the reused read buffer `chunk` (valid only during the call). */
  protected onBytes(chunk: Buffer, n: number): boolean {
    this.readAt = wallMicros32();
    this.measuringRead = this.sink.measuring();
    this.lastLatency = -1;
    this.sameLatency = 0;
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    const used = this.parse(buf);
    if (this.sameLatency > 0) this.sink.record(this.lastLatency, this.sameLatency);
    this.carry = used < buf.length ? Buffer.from(buf.subarray(used)) : EMPTY;
    return true;
  }

  result(): ClientResult {
    return {
      role: this.spec.role,
      port: this.spec.port,
      localPort: this.localPort,
      frames: this.frames,
      gaps: this.gaps,
      violations: this.violations,
      other: this.other,
      sent: this.sent,
      closed: this.closed,
    };
  }
}
