// A canary for the machine's scheduling noise: while a window runs, this (otherwise idle)
// orchestrator process asks for a 1 ms timer over and over and records how late each one
// fires. On a quiet machine that is well under a millisecond; when other work competes for
// the cores it grows, and so does every latency the bench measures. Reported beside the
// latencies so a reader can tell the bridge's delays from the machine's.
import { LatencyHistogram, type HistogramSummary } from './histogram.js';

export class NoiseProbe {
  private readonly hist = new LatencyHistogram();
  private timer: NodeJS.Timeout | null = null;
  private due = 0;

  start(): void {
    this.hist.reset();
    const arm = (): void => {
      this.due = performance.now() + 1;
      this.timer = setTimeout(fire, 1);
    };
    const fire = (): void => {
      this.hist.record(Math.max(0, (performance.now() - this.due) * 1000));
      arm();
    };
    arm();
  }

  stop(): HistogramSummary {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.hist.summary();
  }
}
