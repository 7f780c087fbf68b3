// The benchmark's load generator: N real cannelloni (or tcpcan) TCP clients in one process, separate
// from the bridge so that neither steals the other's event loop. Started by run.ts with
// child_process.fork; configured, started and stopped over IPC (messages.ts).
//
// Each connection checks the sequence payload of every frame (per sender key: bus or
// sending client), counts gaps and ordering violations, and records the latency from the
// send time in the payload to the moment the TCP read that carried the frame was handled.
// All frames of one read share that moment: it is when this process could first see them.
import net from 'node:net';
import { LatencyHistogram } from './histogram.js';
import type { ClientResult, ClientSpec, FromLoad, LoadConfig, ToLoad } from './messages.js';
import {
  HELLO,
  KEY_SPACE,
  BUS_KEY_BASE,
  SENDER_KEY_BASE,
  SEQ_FRAME_BYTES,
  TCPCAN_SEQ_FRAME_BYTES,
  TCPCAN_VERSION,
  wallMicros32,
  writeSeqFrame,
  writeTcpcanSeqFrame,
} from './wire.js';

const EMPTY = Buffer.alloc(0);
const READ_BUFFER = 64 * 1024;
const latency = new LatencyHistogram();
let negativeLatency = 0;
let measuring = false;

class LoadConnection {
  socket!: net.Socket;
  /** Next expected sequence number per key (−1: nothing seen yet). */
  private readonly expected = new Float64Array(KEY_SPACE).fill(-1);
  private carry: Buffer = EMPTY;
  private readonly tcpcan: boolean;
  private helloLeft: number;
  helloSeen = false;
  closed = false;
  localPort = 0;
  frames = 0;
  gaps = 0;
  violations = 0;
  other = 0;
  sent = 0;
  private seqOut = 0;

  constructor(
    readonly spec: ClientSpec,
    readonly senderIndex: number,
  ) {
    this.tcpcan = spec.protocol === 'tcpcan';
    this.helloLeft = this.tcpcan ? TCPCAN_VERSION.length : HELLO.length;
  }

  /** Connects, says hello and resolves once the bridge's hello arrived (stalled: at once). */
  connect(): Promise<void> {
    const reads = this.spec.role !== 'stall';
    this.socket = net.connect({
      port: this.spec.port,
      host: '127.0.0.1',
      noDelay: true,
      // Readers decode straight out of one reused buffer: no allocation and no stream
      // machinery per read, so the generator stays far cheaper than the bridge it measures.
      ...(reads ? { onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => this.onBytes(buf as Buffer, n) } } : {}),
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.localPort = this.socket.localPort ?? 0;
        this.socket.write(this.tcpcan ? TCPCAN_VERSION : HELLO);
        if (this.spec.role === 'stall') {
          // Never read: the kernel buffers fill up and the bridge must cope on its side.
          this.socket.pause();
          resolve();
        } else {
          const check = (): void => (this.helloSeen ? resolve() : void setTimeout(check, 5));
          check();
        }
      });
      this.socket.once('error', reject);
    });
  }

  resetCounters(): void {
    this.frames = this.gaps = this.violations = this.other = this.sent = 0;
  }

  /** Sends `n` sequence frames in one write, all stamped now. */
  send(n: number): void {
    if (this.closed || n <= 0) return;
    const size = this.tcpcan ? TCPCAN_SEQ_FRAME_BYTES : SEQ_FRAME_BYTES;
    const write = this.tcpcan ? writeTcpcanSeqFrame : writeSeqFrame;
    const out = Buffer.allocUnsafe(n * size);
    const now = wallMicros32();
    const key = SENDER_KEY_BASE + this.senderIndex;
    for (let k = 0; k < n; k++) write(out, k * size, key, this.seqOut++, now);
    this.socket.write(out);
    if (measuring) this.sent += n;
  }

  /** `n` new bytes at the start of the reused read buffer `chunk` (valid only during the call). */
  private onBytes(chunk: Buffer, n: number): boolean {
    const now = wallMicros32();
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    if (this.helloLeft > 0) {
      const take = Math.min(this.helloLeft, buf.length);
      this.helloLeft -= take;
      buf = buf.subarray(take);
      if (this.helloLeft > 0) {
        this.carry = EMPTY;
        return true;
      }
      this.helloSeen = true;
    }
    const end = buf.length;
    const expected = this.expected;
    let p = 0;
    let frames = 0;
    let lastLatency = -1;
    let sameLatency = 0;
    const tcpcan = this.tcpcan;
    // cannelloni: id BE (4) | len (bit 7 FD) | [flags] | data
    // tcpcan: 'd' | 16 or 72 | id LE (4) | len | flags | res0 | res1 | data (8 or 64)
    while (p + (tcpcan ? 2 : 5) <= end) {
      let id: number;
      let len: number;
      let fd: boolean;
      let size: number;
      let dataAt: number;
      if (tcpcan) {
        size = 2 + buf[p + 1];
        if (p + size > end) break;
        id = buf.readUInt32LE(p + 2);
        len = buf[p + 6];
        fd = size === 74;
        dataAt = p + 10;
      } else {
        id = buf.readUInt32BE(p);
        const lenByte = buf[p + 4];
        fd = (lenByte & 0x80) !== 0;
        len = lenByte & 0x7f;
        size = (fd ? 6 : 5) + ((id & 0x40000000) !== 0 ? 0 : len);
        if (p + size > end) break;
        dataAt = p + 5;
      }
      const rtr = (id & 0x40000000) !== 0;
      const key = (id & 0x1fffffff) - BUS_KEY_BASE;
      if (!fd && !rtr && len === 8 && key >= 0 && key < KEY_SPACE) {
        const seq = buf.readUInt32BE(dataAt);
        const want = expected[key];
        if (want >= 0 && seq !== want) {
          if (seq > want) this.gaps += seq - want;
          else this.violations++;
        }
        expected[key] = seq + 1;
        frames++;
        if (measuring) {
          let us = (now - buf.readUInt32BE(dataAt + 4)) >>> 0;
          if (us > 0x7fffffff) {
            negativeLatency++;
            us = 0;
          }
          // Frames of one write usually share a send time: record them as one run.
          if (us === lastLatency) sameLatency++;
          else {
            if (sameLatency > 0) latency.recordMany(lastLatency, sameLatency);
            lastLatency = us;
            sameLatency = 1;
          }
        }
      } else {
        this.other++;
      }
      p += size;
    }
    if (sameLatency > 0) latency.recordMany(lastLatency, sameLatency);
    this.frames += frames;
    // A partial frame is copied out: the read buffer is overwritten by the next read.
    this.carry = p < end ? Buffer.from(buf.subarray(p)) : EMPTY;
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

let connections: LoadConnection[] = [];
let sendTimer: NodeJS.Timeout | null = null;
let startedAt = 0;
let cpuAtStart = process.cpuUsage();

function reply(m: FromLoad): void {
  process.send?.(m);
}

/**
 * Drives the senders from one 1 ms timer: each tick sends what is due since the start,
 * as the virtual bus does (Node timers cannot fire faster than once per ms).
 */
function startSenders(): void {
  const senders = connections.filter((c) => c.spec.role === 'send' && (c.spec.rate ?? 0) > 0);
  if (senders.length === 0) return;
  const t0 = performance.now();
  const emitted = senders.map(() => 0);
  const tick = (): void => {
    const elapsed = performance.now() - t0;
    senders.forEach((c, k) => {
      const rate = c.spec.rate ?? 0;
      let due = Math.floor((elapsed * rate) / 1000) - emitted[k];
      // After a stall, skip rather than flood (at most 100 ms worth at once).
      const cap = Math.ceil(rate / 10);
      if (due > cap) {
        emitted[k] += due - cap;
        due = cap;
      }
      c.send(due);
      emitted[k] += due;
    });
    sendTimer = setTimeout(tick, 1);
  };
  sendTimer = setTimeout(tick, 1);
}

async function configure(config: LoadConfig): Promise<void> {
  let senderIndex = 0;
  connections = config.clients.map((spec) => new LoadConnection(spec, spec.role === 'send' ? senderIndex++ : -1));
  // Connect in small groups: a burst of 64 SYNs at once can overflow a small accept backlog.
  for (let k = 0; k < connections.length; k += 16) {
    await Promise.all(connections.slice(k, k + 16).map((c) => c.connect()));
  }
  startSenders();
  reply({ type: 'ready', connected: connections.length });
}

process.on('message', (raw: unknown) => {
  const m = raw as ToLoad;
  switch (m.type) {
    case 'config':
      configure(m.config).catch((err: Error) => reply({ type: 'error', message: err.message }));
      break;
    case 'start':
      for (const c of connections) c.resetCounters();
      latency.reset();
      negativeLatency = 0;
      cpuAtStart = process.cpuUsage();
      startedAt = performance.now();
      measuring = true;
      reply({ type: 'started' });
      break;
    case 'stop': {
      measuring = false;
      const elapsedMs = performance.now() - startedAt;
      const cpu = process.cpuUsage(cpuAtStart);
      reply({
        type: 'result',
        elapsedMs,
        clients: connections.map((c) => c.result()),
        latency: latency.toJSON(),
        negativeLatency,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
      });
      break;
    }
    case 'exit':
      if (sendTimer) clearTimeout(sendTimer);
      for (const c of connections) c.socket?.destroy();
      // Nothing left on the event loop once the IPC channel is gone: the process ends.
      process.disconnect?.();
      break;
  }
});
process.on('disconnect', () => {
  for (const c of connections) c.socket?.destroy();
});
