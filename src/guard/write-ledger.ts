// How far behind a client is, counting the bytes the kernel still holds for it. Node only
// reports what is buffered in Node; the kernel's send buffer autotunes up to megabytes (at an
// Ampio bus's ~250 frames/s, minutes of frames), and a frame that sits there is delivered
// late however our own queue is managed. So every socket write is recorded here with the
// enqueue time of its oldest frame, and when the kernel's unacknowledged byte count for the
// socket is known (Linux: tx_queue in /proc/net/tcp), the age of the oldest byte not yet
// acknowledged by the peer is the client's lag.
//
// Bounded: at most `maxRecords` writes are remembered; when full, a new write is added to the
// newest record, which keeps its (older) time: that can only overstate the lag, never hide
// it, and costs O(1) however often a client is written to (--flush-interval 0).

interface WriteRecord {
  /** Cumulative byte offset at the end of this write. */
  end: number;
  /** Monotonic ms the oldest frame of this write was queued for the client. */
  queuedAt: number;
}

export class WriteLedger {
  private records: WriteRecord[] = [];
  private written = 0;

  constructor(private readonly maxRecords = 256) {}

  /** Bytes handed to the socket so far. */
  get totalWritten(): number {
    return this.written;
  }

  wrote(bytes: number, oldestQueuedAt: number): void {
    if (bytes <= 0) return;
    this.written += bytes;
    const n = this.records.length;
    if (n >= this.maxRecords) {
      const last = this.records[n - 1];
      last.end = this.written;
      if (oldestQueuedAt < last.queuedAt) last.queuedAt = oldestQueuedAt;
    } else {
      this.records.push({ end: this.written, queuedAt: oldestQueuedAt });
    }
  }

  /**
   * `unacked`: bytes written but not yet acknowledged by the peer (kernel send queue plus
   * Node's own buffer). Forgets acknowledged writes; returns how old the oldest unacknowledged
   * byte is (ms), 0 when everything was acknowledged.
   */
  lag(unacked: number, now: number): number {
    const acked = this.written - Math.max(0, Math.min(unacked, this.written));
    let i = 0;
    while (i < this.records.length && this.records[i].end <= acked) i++;
    if (i > 0) this.records.splice(0, i);
    if (this.records.length === 0) return 0;
    return Math.max(0, now - this.records[0].queuedAt);
  }

  /** Records held (bounded by maxRecords). */
  get size(): number {
    return this.records.length;
  }
}

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 into a map from a connection key (see `tcpKey`) to
 * the bytes in its send queue not yet acknowledged by the peer (the tx_queue column).
 */
export function parseProcNetTcp(text: string, into = new Map<string, number>()): Map<string, number> {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i].trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = splitHexEndpoint(cols[1]);
    const remote = splitHexEndpoint(cols[2]);
    if (!local || !remote) continue;
    const txq = parseInt(cols[4].split(':')[0], 16);
    if (!Number.isFinite(txq)) continue;
    into.set(`${local.port}>${remote.addr}:${remote.port}`, txq);
  }
  return into;
}

/** The key of a connection as `parseProcNetTcp` produces it, from what Node reports. */
export function tcpKey(localPort: number, remoteBytes: Uint8Array, remotePort: number): string {
  return `${localPort}>${toHex(remoteBytes)}:${remotePort}`;
}

function splitHexEndpoint(text: string): { addr: string; port: number } | null {
  const i = text.indexOf(':');
  if (i < 0) return null;
  const hex = text.slice(0, i);
  const port = parseInt(text.slice(i + 1), 16);
  const bytes = new Uint8Array(16);
  if (hex.length === 8) {
    // IPv4, one 32-bit word in host (little-endian) order: held as ::ffff:a.b.c.d.
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    for (let k = 0; k < 4; k++) bytes[12 + k] = parseInt(hex.slice(6 - 2 * k, 8 - 2 * k), 16);
  } else if (hex.length === 32) {
    // IPv6, four 32-bit words, each in host order.
    for (let w = 0; w < 4; w++) {
      for (let k = 0; k < 4; k++) bytes[4 * w + k] = parseInt(hex.slice(8 * w + 6 - 2 * k, 8 * w + 8 - 2 * k), 16);
    }
  } else return null;
  return { addr: toHex(bytes), port };
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
