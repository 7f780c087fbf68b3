// `npm run bench -- --ampio`: what the Ampio decoder tap costs the bridge.
//   (1) The tap alone, in this process: Ampio-shaped frames (the virtual backend's `ampio`
//       payload: 29-bit module ids, mostly 8-byte, half of them `FE` state frames with random
//       bytes, so nearly every one is a change: the worst case) and a steady house (modules
//       repeating their state, one change in ten), CPU µs per frame.
//   (2) The built bridge at 21,300 frames/s of the `ampio` payload, --ampio=false and
//       --ampio=true alternately: the difference in the bridge's CPU per frame.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Inventory } from '../../src/ampio/inventory.js';
import { StateStore } from '../../src/ampio/state-store.js';
import { AmpioTap } from '../../src/ampio/tap.js';
import { emptyHouse } from '../../src/ampio/house-file.js';
import { CAN_EFF_FLAG, type CanFrame } from '../../src/core/frame.js';
import { prng } from '../../src/core/prng.js';
import { BridgeProcess } from './bridge-process.js';
import { fixed, int, table } from './report.js';

const RATE = 21_300;
const BUDGET_US = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The virtual backend's Ampio-like frames (src/backends/virtual.ts ampioFrame), pre-built. */
function randomFrames(n: number): CanFrame[] {
  const r = prng(7);
  const modules = Array.from({ length: 40 }, () => 0x1000 + Math.floor(r() * 0xe000));
  return Array.from({ length: n }, () => {
    const len = r() < 0.85 ? 8 : 1 + Math.floor(r() * 7);
    const data = new Uint8Array(len);
    data[0] = r() < 0.5 ? 0xfe : 0x0a + Math.floor(r() * 4);
    for (let k = 1; k < len; k++) data[k] = Math.floor(r() * 256);
    return { id: (CAN_EFF_FLAG | modules[Math.floor(r() * modules.length)]) >>> 0, len, data, fd: false, fdFlags: 0, timestamp: 1.7e12 };
  });
}

/** A steady house: 40 modules broadcasting diagnostics, inputs, outputs and temperatures; one frame in ten changes a value. */
function steadyFrames(n: number): CanFrame[] {
  const r = prng(11);
  const types = [0x4f, 0x1b, 0x1e, 0x0c, 0x06, 0x0f];
  const state = new Map<string, Uint8Array>();
  return Array.from({ length: n }, () => {
    const module = 0x1000 + Math.floor(r() * 40);
    const type = types[Math.floor(r() * types.length)];
    const key = `${module}/${type}`;
    let data = state.get(key);
    if (!data || r() < 0.1) {
      data = Uint8Array.from([0xfe, type, ...Array.from({ length: 6 }, () => Math.floor(r() * 256))]);
      state.set(key, data);
    }
    return { id: (CAN_EFF_FLAG | module) >>> 0, len: 8, data, fd: false, fdFlags: 0, timestamp: 1.7e12 };
  });
}

function tapAlone(frames: CanFrame[], rounds: number): number {
  const house = emptyHouse();
  const tap = new AmpioTap({
    inventory: new Inventory(
      () => performance.now(),
      () => house,
    ),
    store: new StateStore(),
    schedule: () => {},
  });
  const bus = { index: 0, name: 'can0' };
  const run = () => {
    // Batches of 64, as a busy SocketCAN read or a client's TCP segment hands them over.
    for (let i = 0; i < frames.length; i++) {
      tap.received(bus, frames[i]);
      if ((i & 63) === 63) tap.drain();
    }
    tap.drain();
  };
  run(); // warm up: JIT, and the modules and values exist
  const results: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    results.push((c.user + c.system) / frames.length);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)];
}

async function bridgeRun(ampio: boolean, windowS: number): Promise<{ frames: number; cpuUsPerFrame: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-tap-'));
  const bridge = await BridgeProcess.start({ args: ['--virtual-rate', String(RATE), '--virtual-payload', 'ampio', `--ampio=${ampio}`], buses: 1 });
  try {
    await sleep(2000);
    const cpu0 = bridge.cpuTimes();
    const s0 = await bridge.snapshot();
    await sleep(windowS * 1000);
    const cpu1 = bridge.cpuTimes();
    const s1 = await bridge.snapshot();
    const frames = s1.buses[0].rxFrames - s0.buses[0].rxFrames;
    return { frames, cpuUsPerFrame: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / frames };
  } finally {
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  const windowS = Number(argv[argv.indexOf('--window') + 1]) || 10;
  const pairs = Number(argv[argv.indexOf('--windows') + 1]) || 3;
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  progress('the tap alone …');
  const random = tapAlone(randomFrames(200_000), 7);
  const steady = tapAlone(steadyFrames(200_000), 7);
  const runs: Array<{ ampio: boolean; frames: number; cpuUsPerFrame: number }> = [];
  if (argv.includes('--tap-only')) {
    process.stdout.write(`tap alone: ${fixed(random, 3)} µs/frame (Ampio-shaped, random bytes), ${fixed(steady, 3)} µs/frame (steady house)\n`);
    return 0;
  }
  for (let k = 0; k < pairs; k++) {
    for (const ampio of [false, true]) {
      progress(`bridge at ${int(RATE)} frames/s, --ampio=${ampio} (${k + 1}/${pairs}) …`);
      runs.push({ ampio, ...(await bridgeRun(ampio, windowS)) });
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const off = med(runs.filter((r) => !r.ampio).map((r) => r.cpuUsPerFrame));
  const on = med(runs.filter((r) => r.ampio).map((r) => r.cpuUsPerFrame));
  const out: string[] = [];
  out.push(
    `Ampio decoder tap: the tap alone (median of 7 passes over 200,000 frames) and the built bridge at ${int(RATE)} frames/s of the virtual 'ampio' payload, no clients, ${windowS} s windows`,
  );
  out.push(
    table(
      ['traffic', 'tap CPU/frame'],
      [
        ['Ampio-shaped, random bytes (every frame a change)', `${fixed(random, 3)} µs`],
        ['steady house (1 change in 10)', `${fixed(steady, 3)} µs`],
      ],
    ),
  );
  out.push(
    table(
      ['--ampio', 'frames', 'bridge CPU/frame'],
      runs.map((r) => [String(r.ampio), int(r.frames), `${fixed(r.cpuUsPerFrame, 2)} µs`]),
    ),
  );
  const added = on - off;
  out.push(
    `the tap adds ${fixed(added, 2)} µs CPU per frame in the bridge (medians ${fixed(off, 2)} → ${fixed(on, 2)} µs; budget ${BUDGET_US} µs: ${added <= BUDGET_US ? 'met' : 'MISSED'}); alone it costs ${fixed(random, 3)} µs (worst case) / ${fixed(steady, 3)} µs (steady house)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return argv.includes('--check') && added > BUDGET_US ? 1 : 0;
}
