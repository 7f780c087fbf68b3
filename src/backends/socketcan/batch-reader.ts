// What the SocketCAN backend does with one batch the addon read: decode it (binding.ts),
// hand each frame on by kind — our own frames come back as TX confirmations, error frames
// also move the bus state — with how long it waited in the kernel's queue, and frame a
// paced read with pacedBatchStart/End so the clients write what it brought at its end.
// The socket it came from is the backend's business.
//
// The wait is the read time minus the kernel's receive time, both CLOCK_REALTIME (Date.now
// and SO_TIMESTAMPNS), so a clock step moves both; only frames queued across a step are
// misjudged, and a wait below zero (the clock stepped back) counts as none.
import { CAN_ERR_FLAG, type CanFrame } from '../../core/frame.js';
import type { BackendSink } from '../types.js';
import { decodeBatch } from './binding.js';
import type { StateReport } from './state-report.js';
import type { TxConfirmations } from './tx-confirm.js';

export interface BatchReaderDeps {
  sink: () => BackendSink | null;
  confirmations: TxConfirmations;
  state: StateReport;
  /** Stamps a frame the kernel did not time. */
  wallClock: () => number;
}

export class BatchReader {
  /** Date.now() when the batch being decoded was read. */
  private readAt = 0;

  constructor(private readonly deps: BatchReaderDeps) {}

  /** `paced`: the addon read it on the pacing timer (the frames waited in the kernel's queue). */
  read(batch: Buffer, count: number, paced: boolean): void {
    this.readAt = Date.now();
    if (!paced) {
      decodeBatch(batch, count, this.deps.wallClock, this.onFrame);
      return;
    }
    const sink = this.deps.sink();
    sink?.pacedBatchStart?.();
    try {
      decodeBatch(batch, count, this.deps.wallClock, this.onFrame);
    } finally {
      // Always: the sessions hold their flush timers until the end of a paced read.
      sink?.pacedBatchEnd?.();
    }
  }

  private readonly onFrame = (frame: CanFrame, own: boolean, kernelTime: boolean): void => {
    const sink = this.deps.sink();
    if (!sink) return;
    if (own) {
      const c = this.deps.confirmations.confirm(frame);
      if (c) sink.transmitted(c.frame, c.origin);
      return;
    }
    if ((frame.id & CAN_ERR_FLAG) !== 0) {
      const state = this.deps.state;
      const t = state.tracker.errorFrame(frame);
      sink.errorFrame?.(frame);
      state.apply(t);
    }
    const waited = kernelTime ? this.readAt - frame.timestamp : 0;
    sink.received(frame, Math.max(waited, 0));
  };
}
