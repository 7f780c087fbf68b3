// Guest side of the bus-load check in the VM suite: compares what `canbusload -e` counted
// on a vcan with what src/core/bus-load.ts computes for the very same frames (captured
// with `candump -L` during the same run). Run by busload-compare.sh; needs `npm run build`.
//
// Usage: node test/vm/busload-compare.mjs CANBUSLOAD_OUTPUT CANDUMP_LOG BITRATE IFACE
// Prints one JSON summary line; exit 0 when the totals agree (same frame count, same bit
// total, load within 1 percentage point), 1 otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { frameBits, frameBitBounds } = await import(path.join(root, 'dist', 'src', 'core', 'bus-load.js'));
const { makeFrame } = await import(path.join(root, 'dist', 'src', 'core', 'frame.js'));

const [cblPath, dumpPath, bitrateText, iface] = process.argv.slice(2);
const bitrate = Number(bitrateText);
if (!cblPath || !dumpPath || !(bitrate > 0) || !iface) {
  console.error('usage: busload-compare.mjs CANBUSLOAD_OUTPUT CANDUMP_LOG BITRATE IFACE');
  process.exit(2);
}

// canbusload (can-utils 2020.11 .. 2023.03) prints, once per second:
//   " vcan0@50000   100   12500   6400  25%"  = frames, bits total, payload bits, percent
const intervals = [];
for (const line of fs.readFileSync(cblPath, 'utf8').split('\n')) {
  const m = new RegExp(`^\\s*${iface}@(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)%`).exec(line);
  if (m) intervals.push({ frames: Number(m[2]), bits: Number(m[3]), percent: Number(m[5]) });
}

// candump -L: "(1700000000.123456) vcan0 123#DEADBEEF", "12345678#", "123#R", "123#R8"
let frames = 0;
let bits = 0;
let minBits = 0;
let maxBits = 0;
let rtr = 0;
for (const line of fs.readFileSync(dumpPath, 'utf8').split('\n')) {
  const m = /^\(\d+\.\d+\)\s+(\S+)\s+([0-9A-Fa-f]+)#(R(\d)?|[0-9A-Fa-f]*)$/.exec(line.trim());
  if (!m || m[1] !== iface) continue;
  const extended = m[2].length === 8;
  const id = parseInt(m[2], 16);
  let f;
  if (m[3].startsWith('R')) {
    rtr++;
    f = makeFrame({ id, extended, rtr: true, len: m[4] ? Number(m[4]) : 0 });
  } else {
    const data = (m[3].match(/../g) ?? []).map((h) => parseInt(h, 16));
    f = makeFrame({ id, extended, data });
  }
  frames++;
  bits += frameBits(f).total;
  const b = frameBitBounds(f);
  minBits += b.min.nominal;
  maxBits += b.max.nominal;
}

const cblFrames = intervals.reduce((a, i) => a + i.frames, 0);
const cblBits = intervals.reduce((a, i) => a + i.bits, 0);
// Average load over the intervals canbusload reported (the same span for both counts).
const seconds = Math.max(1, intervals.length);
const cblLoad = (cblBits * 100) / (bitrate * seconds);
const ourLoad = (bits * 100) / (bitrate * seconds);
const ok = frames > 0 && frames === cblFrames && rtr === 0 && bits === cblBits && Math.abs(cblLoad - ourLoad) <= 1;
console.log(
  JSON.stringify({
    ok,
    iface,
    bitrate,
    intervals: intervals.length,
    frames: { ours: frames, canbusload: cblFrames },
    bits: { ours: bits, canbusload: cblBits, min: minBits, max: maxBits },
    loadPercent: { ours: Number(ourLoad.toFixed(3)), canbusload: Number(cblLoad.toFixed(3)) },
    peakIntervalPercent: Math.max(0, ...intervals.map((i) => i.percent)),
    rtrFrames: rtr,
  }),
);
process.exit(ok ? 0 : 1);
