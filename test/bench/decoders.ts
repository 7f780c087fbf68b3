// Scenario (g): the decoders alone, in this process: cannelloni TCP (what every client's
// frames go through) and the Ampio UART framing (the serial backend's reader). Inputs are
// built once; each run decodes the whole input repeatedly for at least MIN_RUN_MS and the
// figure is the median of several runs.
import { CannelloniDecoder, encodeFrame } from '../../src/protocols/cannelloni/codec.js';
import { CAN_EFF_FLAG, CAN_RTR_FLAG, type CanFrame } from '../../src/core/frame.js';
import { SerialDecoder } from '../../src/core/serial-codec.js';
import { median } from './traffic.js';
import { prng } from '../../src/core/prng.js';

const MIN_RUN_MS = 250;

export interface DecoderResult {
  decoder: string;
  /** Bytes handed to push() at a time. */
  chunkBytes: number;
  input: string;
  mbPerS: number;
  framesPerS: number;
  runs: number[];
}

/**
 * Ampio-like cannelloni traffic: 29-bit ids, 85 % eight-byte frames, the rest 0..7 bytes,
 * 2 % RTR and 2 % CAN FD (12..64 bytes) so every decoder path runs.
 */
function cannelloniStream(frames: number): { bytes: Uint8Array; frames: number } {
  const r = prng(7);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let k = 0; k < frames; k++) {
    const x = r();
    let f: CanFrame;
    const id = (CAN_EFF_FLAG | (0x1e00 + Math.floor(r() * 0x400))) >>> 0;
    if (x < 0.02) f = { id: (id | CAN_RTR_FLAG) >>> 0, len: Math.floor(r() * 9), data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: 0 };
    else if (x < 0.04) {
      const len = [12, 16, 20, 24, 32, 48, 64][Math.floor(r() * 7)];
      f = { id, len, data: Uint8Array.from({ length: len }, () => Math.floor(r() * 256)), fd: true, fdFlags: 1, timestamp: 0 };
    } else {
      const len = x < 0.89 ? 8 : Math.floor(r() * 8);
      f = { id, len, data: Uint8Array.from({ length: len }, () => Math.floor(r() * 256)), fd: false, fdFlags: 0, timestamp: 0 };
    }
    const b = encodeFrame(f);
    parts.push(b);
    total += b.length;
  }
  const bytes = new Uint8Array(total);
  let p = 0;
  for (const b of parts) {
    bytes.set(b, p);
    p += b.length;
  }
  return { bytes, frames };
}

/** Adapter → host frames: `2D D4 LEN ID[4] data CHK`, 85 % eight bytes, the rest 0..7. */
function uartStream(frames: number): { bytes: Uint8Array; frames: number } {
  const r = prng(11);
  const out: number[] = [];
  for (let k = 0; k < frames; k++) {
    const n = r() < 0.85 ? 8 : Math.floor(r() * 8);
    const id = 0x1e00 + Math.floor(r() * 0x400);
    const body = [n + 5, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff];
    for (let j = 0; j < n; j++) body.push(Math.floor(r() * 256));
    let sum = 0x2d;
    for (const b of body) sum += b;
    out.push(0x2d, 0xd4, ...body, sum & 0xff);
  }
  return { bytes: Uint8Array.from(out), frames };
}

function measure(
  name: string,
  input: string,
  stream: { bytes: Uint8Array; frames: number },
  chunk: number,
  makePass: () => (bytes: Uint8Array, chunk: number) => number,
  repeats: number,
): DecoderResult {
  const runs: number[] = [];
  // Warm-up pass: let the JIT settle before timing.
  makePass()(stream.bytes, chunk);
  for (let k = 0; k < repeats; k++) {
    const pass = makePass();
    let bytes = 0;
    let decoded = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < MIN_RUN_MS) {
      decoded += pass(stream.bytes, chunk);
      bytes += stream.bytes.length;
      t = performance.now();
    }
    if (decoded !== (bytes / stream.bytes.length) * stream.frames)
      throw new Error(`${name}: decoded ${decoded} frames, expected ${(bytes / stream.bytes.length) * stream.frames}`);
    runs.push(bytes / ((t - t0) / 1000) / 1e6);
  }
  const mb = median(runs);
  return { decoder: name, chunkBytes: chunk, input, mbPerS: mb, framesPerS: (mb * 1e6 * stream.frames) / stream.bytes.length, runs };
}

export function runDecoders(repeats: number): DecoderResult[] {
  const can = cannelloniStream(20_000);
  const uart = uartStream(20_000);
  const canPass = () => {
    let n = 0;
    const d = new CannelloniDecoder(() => {
      n++;
    });
    return (bytes: Uint8Array, chunk: number): number => {
      n = 0;
      for (let p = 0; p < bytes.length; p += chunk) {
        const err = d.push(bytes.subarray(p, Math.min(bytes.length, p + chunk)));
        if (err) throw err;
      }
      return n;
    };
  };
  const uartPass = () => {
    const d = new SerialDecoder();
    return (bytes: Uint8Array, chunk: number): number => {
      let n = 0;
      for (let p = 0; p < bytes.length; p += chunk) n += d.push(bytes.subarray(p, Math.min(bytes.length, p + chunk))).length;
      return n;
    };
  };
  const canInput = 'Ampio-like mix: 85 % 8-byte EFF, 2 % RTR, 2 % FD';
  const uartInput = 'adapter→host frames, 85 % 8-byte';
  return [
    measure('cannelloni', canInput, can, 65_536, canPass, repeats),
    measure('cannelloni', canInput, can, 13, canPass, repeats),
    measure('ampio-uart', uartInput, uart, 4096, uartPass, repeats),
    measure('ampio-uart', uartInput, uart, 16, uartPass, repeats),
  ];
}
