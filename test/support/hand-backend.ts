// A backend a test drives by hand: its sink is whatever the bus (or daemon) gave it, so the
// test calls sink.received()/transmitted()/pacedBatchStart() itself; what the bus sends it
// is recorded, and a refusal can be scripted.
import type { BackendSink, CanBackend, SendResult } from '../../src/backends/types.js';
import type { CanFrame, FrameOrigin } from '../../src/core/frame.js';

export class HandBackend implements CanBackend {
  readonly info: { kind: 'virtual'; name: string; fd: boolean; bitrate: number };
  sink!: BackendSink;
  sent: Array<{ frame: CanFrame; origin: FrameOrigin }> = [];
  /** What send() answers instead of { ok: true } while set. */
  refuse: SendResult | null = null;

  /** `reportOpen`: report the device open and error-active on start, as a real backend does. */
  constructor(private readonly options: { fd?: boolean; reportOpen?: boolean } = {}) {
    this.info = { kind: 'virtual', name: 'hand0', fd: options.fd ?? true, bitrate: 125_000 };
  }

  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    if (this.options.reportOpen) sink.stateChanged('open', 'error-active');
  }

  async stop(): Promise<void> {}

  send(frame: CanFrame, origin: FrameOrigin): SendResult {
    if (this.refuse) return this.refuse;
    this.sent.push({ frame, origin });
    return { ok: true };
  }

  counters() {
    return { txQueueDepth: 0, reopens: 0 };
  }
}
