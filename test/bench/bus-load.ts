// Micro-benchmark of the bus-load accounting every bus frame goes through (src/core/bus-load.ts):
// frameBits, frameBitBounds and BusLoadMeter.record, in this process, on a fixed Ampio-like
// frame mix. Also the memory the meter holds at a high frame rate (80,000 frames/s on a
// simulated clock, where the old per-frame ring was measured at ~28 MB of RSS).
//
//   npm run build && node dist/test/bench/bus-load.js
//
// Not part of `npm run bench`'s budgets: it gives ns per frame to compare two builds.
import { fileURLToPath } from 'node:url';
import { BusLoadMeter, frameBitBounds, frameBits } from '../../src/core/bus-load.js';
import { CAN_EFF_FLAG, CAN_RTR_FLAG, CANFD_BRS, type CanFrame } from '../../src/core/frame.js';
import { prng } from '../../src/core/prng.js';

const MIN_RUN_MS = 250;

export interface BusLoadBenchResult {
  what: string;
  nsPerFrame: number;
  runs: number[];
}

/** The decoders benchmark's mix: 29-bit ids, 85 % eight-byte frames, 2 % RTR, 2 % CAN FD (12..64 bytes, BRS). */
export function ampioFrames(count: number): CanFrame[] {
  const r = prng(7);
  const out: CanFrame[] = [];
  for (let k = 0; k < count; k++) {
    const x = r();
    const id = (CAN_EFF_FLAG | (0x1e00 + Math.floor(r() * 0x400))) >>> 0;
    if (x < 0.02) out.push({ id: (id | CAN_RTR_FLAG) >>> 0, len: Math.floor(r() * 9), data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: 0 });
    else if (x < 0.04) {
      const len = [12, 16, 20, 24, 32, 48, 64][Math.floor(r() * 7)];
      out.push({ id, len, data: Uint8Array.from({ length: len }, () => Math.floor(r() * 256)), fd: true, fdFlags: CANFD_BRS, timestamp: 0 });
    } else {
      const len = x < 0.89 ? 8 : Math.floor(r() * 8);
      out.push({ id, len, data: Uint8Array.from({ length: len }, () => Math.floor(r() * 256)), fd: false, fdFlags: 0, timestamp: 0 });
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `pass` (which handles every frame once and returns a checksum) for ≥ MIN_RUN_MS per run. */
function measure(what: string, frames: number, pass: () => number, repeats: number): BusLoadBenchResult {
  let sink = pass(); // warm-up: let the JIT settle
  const runs: number[] = [];
  for (let k = 0; k < repeats; k++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < MIN_RUN_MS) {
      sink += pass();
      n += frames;
      t = performance.now();
    }
    runs.push(((t - t0) * 1e6) / n);
  }
  if (!Number.isFinite(sink)) throw new Error(`${what}: bad checksum`);
  return { what, nsPerFrame: median(runs), runs };
}

export function runBusLoad(repeats: number): BusLoadBenchResult[] {
  const frames = ampioFrames(20_000);
  const clock = { t: 0 };
  const meter = new BusLoadMeter({ now: () => clock.t, bitrate: 1_000_000 });
  return [
    measure(
      'frameBits',
      frames.length,
      () => {
        let s = 0;
        for (const f of frames) s += frameBits(f).total;
        return s;
      },
      repeats,
    ),
    measure(
      'frameBitBounds',
      frames.length,
      () => {
        let s = 0;
        for (const f of frames) s += frameBitBounds(f).max.nominal;
        return s;
      },
      repeats,
    ),
    measure(
      'BusLoadMeter.record (21,300 fps clock)',
      frames.length,
      () => {
        for (const f of frames) {
          clock.t += 1000 / 21_300;
          meter.record(f);
        }
        return meter.reading().exact;
      },
      repeats,
    ),
  ];
}

/** ArrayBuffer bytes held by a meter after 3 s at `fps` frames/s (simulated clock). */
export function meterMemory(fps: number): number {
  const frames = ampioFrames(1000);
  const clock = { t: 0 };
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().arrayBuffers;
  const meter = new BusLoadMeter({ now: () => clock.t, bitrate: 1_000_000 });
  for (let i = 0; i < 3 * fps; i++) {
    clock.t = (i * 1000) / fps;
    meter.record(frames[i % frames.length]);
  }
  gc?.();
  const held = process.memoryUsage().arrayBuffers - before;
  if (meter.reading().exact <= 0) throw new Error('meter saw no frames');
  return held;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of runBusLoad(7)) {
    process.stdout.write(`${r.what.padEnd(40)} ${r.nsPerFrame.toFixed(1).padStart(8)} ns/frame  (runs: ${r.runs.map((x) => x.toFixed(0)).join(' ')})\n`);
  }
  const mb = meterMemory(80_000) / 1e6;
  process.stdout.write(
    `${'meter ArrayBuffers after 3 s at 80,000 fps'.padEnd(40)} ${mb.toFixed(2).padStart(8)} MB${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for a steadier figure)'}\n`,
  );
}
