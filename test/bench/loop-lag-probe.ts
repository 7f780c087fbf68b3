// Loaded into the bridge with `node --import` by the capture benchmark: records the event
// loop's delay and writes its percentiles to $AMPIO_BENCH_LOOP_LAG_FILE when the process exits.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.AMPIO_BENCH_LOOP_LAG_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // Started by the benchmark's "measure now" signal, so start-up does not count.
  process.on('SIGUSR2', () => {
    h.reset();
    h.enable();
  });
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, samples: h.count }));
  });
}
