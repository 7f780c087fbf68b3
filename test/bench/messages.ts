// Messages between the orchestrator (run.ts) and the load generator (load-client.ts), over
// the IPC channel of child_process.fork.

export type ClientRole =
  /** Reads and checks every frame. */
  | 'read'
  /** Connects, says hello, then never reads again (a stalled peer). */
  | 'stall'
  /** Reads like `read` and also sends sequence frames at `rate` frames/s. */
  | 'send';

export interface ClientSpec {
  port: number;
  role: ClientRole;
  /** Wire protocol of the connection; default cannelloni (gvret: a SavvyCAN-style reader; socketcand: RAW mode). */
  protocol?: 'cannelloni' | 'tcpcan' | 'gvret' | 'socketcand' | 'waveshare' | 'cannelloni-udp';
  /** Frames/s this client sends (role `send`). */
  rate?: number;
}

export interface LoadConfig {
  clients: ClientSpec[];
}

export interface ClientResult {
  role: ClientRole;
  port: number;
  /** Local port of the connection: matches the `remote` the bridge reports for it. */
  localPort: number;
  /** Sequence frames received in the window. */
  frames: number;
  /** Frames skipped in a sequence (lost somewhere), in the window. */
  gaps: number;
  /** A sequence number at or below one already seen: reordering or duplication. */
  violations: number;
  /** Frames that were not sequence frames. */
  other: number;
  /** Frames this client sent in the window (role `send`). */
  sent: number;
  /** The bridge closed this connection before the end (kicked, error). */
  closed: boolean;
}

export interface SerializedHistogram {
  buckets: Array<[number, number]>;
  count: number;
  maxUs: number;
}

export type ToLoad = { type: 'config'; config: LoadConfig } | { type: 'start' } | { type: 'stop' } | { type: 'exit' };

export type FromLoad =
  | { type: 'ready'; connected: number }
  | { type: 'started' }
  | {
      type: 'result';
      elapsedMs: number;
      clients: ClientResult[];
      /** Latency of every frame received by a healthy (read/send) client, bus ingress → decode. */
      latency: SerializedHistogram;
      /** Frames whose latency came out negative (clock skew between processes). */
      negativeLatency: number;
      /** The load generator's own CPU in the window, µs (it must not be the bottleneck). */
      cpuUserUs: number;
      cpuSystemUs: number;
    }
  | { type: 'error'; message: string };
