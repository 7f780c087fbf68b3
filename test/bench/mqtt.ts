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
  frames: number;
  cpuUsPerFrame: number;
  published: number;
}

async function cpuRun(config: CpuRun['config'], broker: Broker, windowS: number): Promise<CpuRun> {
  const args = ['--virtual-rate', String(RATE), '--virtual-payload', 'ampio'];
  if (config === 'decoder off') args.push('--ampio=false');
  if (config === 'MQTT on') args.push('--mqtt-url', broker.url(), '--mqtt-prefix', `bench/cpu${Date.now()}`, '--mqtt-discovery-prefix', 'off');
  const bridge = await BridgeProcess.start({ args, buses: 1 });
  const clients = await Promise.all(Array.from({ length: 8 }, () => reader(bridge.ports[0])));
  await sleep(3000);
  const cpu0 = bridge.cpuTimes();
  const s0 = await bridge.snapshot();
  await sleep(windowS * 1000);
  const cpu1 = bridge.cpuTimes();
  const s1 = await bridge.snapshot();
  for (const c of clients) c.destroy();
  await bridge.stop();
  const frames = s1.buses[0].rxFrames - s0.buses[0].rxFrames;
  return {
    config,
    frames,
    cpuUsPerFrame: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / frames,
    published: (s1.mqtt?.published ?? 0) - (s0.mqtt?.published ?? 0),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latencyRun(broker: Broker, busRate: number, samples: number): Promise<{ busRate: number; n: number; p50: number; p99: number; max: number }> {
  const prefix = `bench/lat${Date.now()}`;
  const bridge = await BridgeProcess.start({ args: ['--virtual-rate', String(busRate), '--virtual-payload', 'ampio', '--mqtt-url', broker.url(), '--mqtt-prefix', prefix, '--mqtt-discovery-prefix', 'off'], buses: 1 });
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
  return { busRate, n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

export async function main(argv: string[]): Promise<number> {
  const windowS = Number(argv[argv.indexOf('--window') + 1]) || 10;
  const rounds = Number(argv[argv.indexOf('--rounds') + 1]) || 3;
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const broker = await startBroker();
  try {
    const runs: CpuRun[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const config of ['decoder off', 'MQTT off', 'MQTT on'] as const) {
        progress(`round ${r + 1}/${rounds}: ${config} at ${RATE} frames/s …`);
        runs.push(await cpuRun(config, broker, windowS));
      }
    }
    const med = (c: CpuRun['config']): number => {
      const v = runs.filter((r) => r.config === c).map((r) => r.cpuUsPerFrame).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    progress('latency: idle bus, then 21,300 frames/s …');
    const lat = [await latencyRun(broker, 0, 1000), await latencyRun(broker, RATE, 1000)];
    const out: string[] = [];
    out.push(`MQTT benchmark: built CLI on the virtual bus (Ampio-like frames, ${int(RATE)} frames/s), 8 cannelloni readers, mosquitto on 127.0.0.1; ${rounds} rounds of ${windowS} s`);
    out.push(
      table(
        ['round', 'configuration', 'frames', 'bridge CPU/frame', 'MQTT messages/s'],
        runs.map((r, i) => [String(Math.floor(i / 3) + 1), r.config, int(r.frames), `${fixed(r.cpuUsPerFrame, 2)} µs`, r.config === 'MQTT on' ? int(r.published / windowS) : '-']),
      ),
    );
    const off = med('MQTT off');
    const on = med('MQTT on');
    out.push(`medians: decoder off ${fixed(med('decoder off'), 2)} µs, MQTT off ${fixed(off, 2)} µs, MQTT on ${fixed(on, 2)} µs per frame → MQTT adds ${fixed(((on - off) / off) * 100, 1)} % (budget 5 %)`);
    out.push(table(['bus load', 'values timed', 'p50', 'p99', 'max'], lat.map((l) => [l.busRate === 0 ? 'idle' : `${int(l.busRate)} frames/s`, int(l.n), `${fixed(l.p50, 2)} ms`, `${fixed(l.p99, 2)} ms`, `${fixed(l.max, 2)} ms`])));
    out.push('latency = cannelloni write of a changed value → the broker delivers the retained topic to a subscriber (budget p99 20 ms)');
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await broker.close();
  }
  return 0;
}
