// `npm run bench -- --mqtt`: what the MQTT publisher costs the bridge, and how fast a state
// change reaches the broker. The bridge runs as its own process (the built CLI on the
// virtual bus, Ampio-like frames at 21,300 frames/s = a saturated 1 Mbit/s bus) with 8
// cannelloni readers; the broker is Debian's mosquitto on 127.0.0.1.
//   CPU: three configurations in alternation — decoder off; decoder on, MQTT off; decoder on,
//   MQTT on (decoded state only) — bridge CPU time per bus frame, medians of the rounds.
//   Latency: a cannelloni client changes an analog output 100 times a second; an MQTT client
//   in this process times each value from the write to the bridge until the broker delivers
//   it (the same clock at both ends), idle bus and 21,300 frames/s.
import net from 'node:net';
import mqtt from 'mqtt';
import { encode, HELLO } from '../support/cannelloni-client.js';
import { type Broker, startBroker } from '../support/mosquitto.js';
import { createAmpioService } from '../../src/ampio/service.js';
import { ampioCommands } from '../../src/ampio/commands.js';
import { loadConfig } from '../../src/config/load.js';
import type { Snapshot } from '../../src/control/protocol.js';
import { makeFrame } from '../../src/core/frame.js';
import { MqttService } from '../../src/mqtt/service.js';
import { BridgeProcess } from './bridge-process.js';
import { fixed, int, table } from './report.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RATE = 21_300;

/** A cannelloni reader that only drains (the clients of the bus-to-client path). */
function reader(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(HELLO);
      resolve(s);
    });
    s.on('data', () => {});
    s.once('error', reject);
  });
}

interface CpuRun {
  config: 'decoder off' | 'MQTT off' | 'MQTT on';
  /** random: the virtual bus's Ampio-like frames, random bytes (nearly every decoded frame changes a value: the worst case); house: a client plays 24 modules whose values change in 1 % of frames. */
  traffic: 'random' | 'house';
  frames: number;
  cpuUsPerFrame: number;
  published: number;
}

/**
 * A client that plays a house at RATE frames/s in 10 ms ticks: 24 modules broadcasting
 * diagnostics, outputs, an analog output and a temperature, repeating their state as Ampio
 * modules do; one frame in a hundred carries a changed value.
 */
async function playHouse(port: number): Promise<() => void> {
  const s = await reader(port);
  const perTick = RATE / 100;
  let n = 0;
  const state = Array.from({ length: 24 }, () => ({ bout: 0, aout: 0, temp: 1215 }));
  const timer = setInterval(() => {
    const parts: Buffer[] = [];
    for (let k = 0; k < perTick; k++, n++) {
      const m = n % 24;
      const st = state[m];
      if (n % 100 === 0) {
        st.bout = (st.bout + 1) & 0xff;
        st.aout = (st.aout + 7) & 0xff;
        st.temp = 1150 + ((st.temp + 3) % 200);
      }
      const id = (0x80000000 | (0x1000 + m)) >>> 0;
      const type = Math.floor(n / 24) % 4;
      const data =
        type === 0
          ? [0xfe, 0x4f, 0x78, 0x7d]
          : type === 1
            ? [0xfe, 0x1e, st.bout, 0, 0, 0, 0, 0]
            : type === 2
              ? [0xfe, 0x0c, st.aout, 0, 0, 0, 0, 0]
              : [0xfe, 0x06, st.temp & 0xff, st.temp >> 8];
      parts.push(encode({ id, data }));
    }
    s.write(Buffer.concat(parts));
  }, 10);
  return () => {
    clearInterval(timer);
    s.destroy();
  };
}

async function cpuRun(config: CpuRun['config'], traffic: CpuRun['traffic'], broker: Broker, windowS: number): Promise<CpuRun> {
  const args = ['--virtual-rate', traffic === 'random' ? String(RATE) : '0', '--virtual-payload', 'ampio'];
  if (config === 'decoder off') args.push('--ampio=false');
  if (config === 'MQTT on') args.push('--mqtt-url', broker.url(), '--mqtt-prefix', `bench/cpu${Date.now()}`, '--mqtt-discovery-prefix', 'off');
  const bridge = await BridgeProcess.start({ args, buses: 1 });
  const clients = await Promise.all(Array.from({ length: 8 }, () => reader(bridge.ports[0])));
  const stopPlaying = traffic === 'house' ? await playHouse(bridge.ports[0]) : () => {};
  await sleep(3000);
  const cpu0 = bridge.cpuTimes();
  const s0 = await bridge.snapshot();
  await sleep(windowS * 1000);
  const cpu1 = bridge.cpuTimes();
  const s1 = await bridge.snapshot();
  stopPlaying();
  for (const c of clients) c.destroy();
  await bridge.stop();
  const frames = traffic === 'random' ? s1.buses[0].rxFrames - s0.buses[0].rxFrames : s1.buses[0].txFrames - s0.buses[0].txFrames;
  return {
    config,
    traffic,
    frames,
    cpuUsPerFrame: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / frames,
    published: (s1.mqtt?.published ?? 0) - (s0.mqtt?.published ?? 0),
  };
}

/**
 * The publisher's own cost, in this process: the same house traffic through the real decoder
 * (its tap, drained by hand) with and without the MQTT service attached, alternating; CPU
 * time of this process per frame. Excludes the clients' path, so it isolates what MQTT adds.
 */
export async function inProcessRun(broker: Broker, withMqtt: boolean, frames: number): Promise<{ withMqtt: boolean; usPerFrame: number; changes: number }> {
  const loaded = loadConfig({
    argv: ['--backend', 'virtual', '--mqtt-url', broker.url(), '--mqtt-prefix', `bench/inproc${Date.now()}`, '--mqtt-discovery-prefix', 'off'],
    env: {},
    isRoot: false,
    cwd: '/',
  });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  const silent = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return silent;
    },
  } as never;
  const ampio = createAmpioService(loaded.config, { log: silent });
  const bus = {
    index: 0,
    name: 'can0',
    bitrate: () => 1_000_000,
    send: () => ({ ok: true as const }),
    refuseFromClient: () => ({ ok: false as const, reason: 'filtered' as const }),
  };
  const svc = withMqtt
    ? new MqttService({
        config: loaded.config,
        hostname: 'bench',
        version: 'bench',
        buses: [bus],
        view: ampio.view,
        encoders: ampioCommands,
        snapshot: () => ({ totals: { active: 0 }, buses: [] }) as unknown as Snapshot,
        log: () => {},
      })
    : null;
  await ampio.start();
  if (svc) {
    await svc.start();
    while (svc.snapshot().state !== 'connected') await sleep(20);
  }
  let changes = 0;
  ampio.view.state.subscribe(() => void changes++);
  const state = Array.from({ length: 24 }, () => ({ bout: 0, aout: 0, temp: 1215 }));
  const cpu0 = process.cpuUsage();
  const perTick = RATE / 100;
  for (let n = 0; n < frames; ) {
    for (let k = 0; k < perTick; k++, n++) {
      const m = n % 24;
      const st = state[m];
      if (n % 100 === 0) {
        st.bout = (st.bout + 1) & 0xff;
        st.aout = (st.aout + 7) & 0xff;
        st.temp = 1150 + ((st.temp + 3) % 200);
      }
      const type = Math.floor(n / 24) % 4;
      const data =
        type === 0
          ? [0xfe, 0x4f, 0x78, 0x7d]
          : type === 1
            ? [0xfe, 0x1e, st.bout, 0, 0, 0, 0, 0]
            : type === 2
              ? [0xfe, 0x0c, st.aout, 0, 0, 0, 0, 0]
              : [0xfe, 0x06, st.temp & 0xff, st.temp >> 8];
      ampio.tap.received(bus, makeFrame({ id: 0x1000 + m, extended: true, data, timestamp: 1 }));
    }
    ampio.tap.drain();
    // One event-loop turn per tick, as on the bus: the publisher flushes on setImmediate.
    await new Promise((r) => setImmediate(r));
  }
  await sleep(50);
  const cpu = process.cpuUsage(cpu0);
  await svc?.stop();
  await ampio.stop();
  return { withMqtt, usPerFrame: (cpu.user + cpu.system) / frames, changes };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** payload: `sequence` = a saturated bus whose frames change no state; `ampio` = random Ampio-like bytes (about 10,000 value changes/s: the worst case). */
async function latencyRun(
  broker: Broker,
  busRate: number,
  payload: 'sequence' | 'ampio',
  samples: number,
): Promise<{ busRate: number; payload: string; n: number; p50: number; p99: number; max: number }> {
  const prefix = `bench/lat${Date.now()}`;
  const bridge = await BridgeProcess.start({
    args: [
      '--virtual-rate',
      String(busRate),
      '--virtual-payload',
      payload,
      '--mqtt-url',
      broker.url(),
      '--mqtt-prefix',
      prefix,
      '--mqtt-discovery-prefix',
      'off',
    ],
    buses: 1,
  });
  const sub = mqtt.connect(broker.url(), { reconnectPeriod: 0 });
  await new Promise<void>((r) => sub.once('connect', () => r()));
  // Module 0x00ABCDEF is outside the virtual bus's modules: only our frames change it.
  const topic = `${prefix}/00abcdef/aout/1`;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  sub.on('message', (_t, payload) => {
    const t0 = sentAt.get(payload.toString());
    if (t0 !== undefined) {
      latencies.push(performance.now() - t0);
      sentAt.delete(payload.toString());
    }
  });
  await new Promise<void>((r) => sub.subscribe(topic, { qos: 0 }, () => r()));
  const writer = await reader(bridge.ports[0]);
  await sleep(2000);
  for (let i = 0; i < samples; i++) {
    const v = (i % 250) + 1;
    sentAt.set(String(v), performance.now());
    writer.write(encode({ id: (0x80000000 | 0xabcdef) >>> 0, data: [0xfe, 0x0c, v, 0, 0, 0, 0, 0] }));
    await sleep(10);
  }
  await sleep(500);
  writer.destroy();
  sub.end(true);
  await bridge.stop();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { busRate, payload, n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

export async function main(argv: string[]): Promise<number> {
  const windowS = Number(argv[argv.indexOf('--window') + 1]) || 10;
  const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 3;
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const broker = await startBroker();
  try {
    const runs: CpuRun[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const traffic of ['house', 'random'] as const) {
        for (const config of ['decoder off', 'MQTT off', 'MQTT on'] as const) {
          progress(`round ${r + 1}/${rounds}: ${traffic} traffic, ${config} at ${RATE} frames/s …`);
          runs.push(await cpuRun(config, traffic, broker, windowS));
        }
      }
    }
    const med = (c: CpuRun['config'], t: CpuRun['traffic']): number => {
      const v = runs
        .filter((r) => r.config === c && r.traffic === t)
        .map((r) => r.cpuUsPerFrame)
        .sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    progress('in-process: the decoder with and without the MQTT service, 500,000 house frames each, alternating …');
    const inproc: Array<{ withMqtt: boolean; usPerFrame: number; changes: number }> = [];
    for (let r = 0; r < 5; r++) for (const m of [false, true]) inproc.push(await inProcessRun(broker, m, 500_000));
    progress('latency: idle bus, a saturated bus, a saturated bus of random Ampio bytes …');
    const lat = [
      await latencyRun(broker, 0, 'sequence', 1000),
      await latencyRun(broker, RATE, 'sequence', 1000),
      await latencyRun(broker, RATE, 'ampio', 1000),
    ];
    const out: string[] = [];
    out.push(
      `MQTT benchmark: built CLI on the virtual bus (Ampio-like frames, ${int(RATE)} frames/s), 8 cannelloni readers, mosquitto on 127.0.0.1; ${rounds} rounds of ${windowS} s`,
    );
    out.push(
      table(
        ['round', 'traffic', 'configuration', 'frames', 'bridge CPU/frame', 'MQTT messages/s'],
        runs.map((r, i) => [
          String(Math.floor(i / 6) + 1),
          r.traffic,
          r.config,
          int(r.frames),
          `${fixed(r.cpuUsPerFrame, 2)} µs`,
          r.config === 'MQTT on' ? int(r.published / windowS) : '-',
        ]),
      ),
    );
    for (const t of rounds > 0 ? (['house', 'random'] as const) : []) {
      const off = med('MQTT off', t);
      const on = med('MQTT on', t);
      out.push(
        `${t} traffic, medians: decoder off ${fixed(med('decoder off', t), 2)} µs, MQTT off ${fixed(off, 2)} µs, MQTT on ${fixed(on, 2)} µs per frame → MQTT adds ${fixed(((on - off) / off) * 100, 1)} % (budget 5 %)`,
      );
    }
    const inMed = (m: boolean): number => {
      const v = inproc
        .filter((r) => r.withMqtt === m)
        .map((r) => r.usPerFrame)
        .sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    const houseOff = rounds > 0 ? med('MQTT off', 'house') : Number.NaN;
    out.push(
      `in-process, house traffic (${int(inproc[0].changes / (500_000 / RATE))} value changes/s at ${int(RATE)} frames/s): decoder alone ${fixed(inMed(false), 3)} µs/frame, with MQTT ${fixed(inMed(true), 3)} µs/frame → MQTT adds ${fixed(inMed(true) - inMed(false), 3)} µs per frame = ${fixed(((inMed(true) - inMed(false)) / houseOff) * 100, 1)} % of the bridge's ${fixed(houseOff, 2)} µs per frame with MQTT off (runs: ${inproc.map((r) => `${r.withMqtt ? 'on' : 'off'} ${fixed(r.usPerFrame, 3)}`).join(', ')})`,
    );
    out.push(
      table(
        ['bus load', 'values timed', 'p50', 'p99', 'max'],
        lat.map((l) => [
          l.busRate === 0
            ? 'idle'
            : `${int(l.busRate)} frames/s ${l.payload === 'ampio' ? '(random Ampio bytes: ~10,000 value changes/s)' : '(no state changes)'}`,
          int(l.n),
          `${fixed(l.p50, 2)} ms`,
          `${fixed(l.p99, 2)} ms`,
          `${fixed(l.max, 2)} ms`,
        ]),
      ),
    );
    out.push('latency = cannelloni write of a changed value → the broker delivers the retained topic to a subscriber (budget p99 20 ms)');
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await broker.close();
  }
  return 0;
}
