// The benchmark's load generator: N real TCP clients (cannelloni, tcpcan, GVRET or
// socketcand) in one process, separate from the bridge so that neither steals the other's
// event loop. Started by run.ts with child_process.fork; configured, started and stopped over
// IPC (messages.ts).
//
// Each connection checks the sequence payload of every frame (per sender key: bus or
// sending client), counts gaps and ordering violations, and records the latency from the
// send time in the payload to the moment the TCP read that carried the frame was handled
// (load-connection.ts); this file drives the senders and keeps the one latency histogram.
import { CannelloniLoadConnection } from './cannelloni-load.js';
import { GvretLoadConnection } from './gvret-connection.js';
import { LatencyHistogram } from './histogram.js';
import type { LatencySink, LoadConnection } from './load-connection.js';
import type { FromLoad, LoadConfig, ToLoad } from './messages.js';
import { SocketcandLoadConnection } from './socketcand-load.js';
import { WaveshareLoadConnection } from './waveshare-load.js';
import { UdpLoadConnection } from './udp-load.js';

const latency = new LatencyHistogram();
let negativeLatency = 0;
let measuring = false;

/** Where every connection records latency: one histogram; a send time ahead of the read counts apart, as 0. */
const latencySink: LatencySink = {
  measuring: () => measuring,
  record(us, count) {
    if (us > 0x7fffffff) {
      negativeLatency += count;
      us = 0;
    }
    latency.recordMany(us, count);
  },
};

let connections: LoadConnection[] = [];
let sendTimer: NodeJS.Timeout | null = null;
let startedAt = 0;
let cpuAtStart = process.cpuUsage();

function reply(m: FromLoad): void {
  process.send?.(m);
}

/**
 * Drives the senders from one 1 ms timer: each tick sends what is due since the start,
 * as the virtual bus does (Node timers cannot fire faster than once per ms).
 */
function startSenders(): void {
  const senders = connections.filter((c) => c.spec.role === 'send' && (c.spec.rate ?? 0) > 0);
  if (senders.length === 0) return;
  const t0 = performance.now();
  const emitted = senders.map(() => 0);
  const tick = (): void => {
    const elapsed = performance.now() - t0;
    senders.forEach((c, k) => {
      const rate = c.spec.rate ?? 0;
      let due = Math.floor((elapsed * rate) / 1000) - emitted[k];
      // After a stall, skip rather than flood (at most 100 ms worth at once).
      const cap = Math.ceil(rate / 10);
      if (due > cap) {
        emitted[k] += due - cap;
        due = cap;
      }
      c.send(due);
      emitted[k] += due;
    });
    sendTimer = setTimeout(tick, 1);
  };
  sendTimer = setTimeout(tick, 1);
}

async function configure(config: LoadConfig): Promise<void> {
  let senderIndex = 0;
  connections = config.clients.map((spec) =>
    spec.protocol === 'gvret'
      ? new GvretLoadConnection(spec, latencySink)
      : spec.protocol === 'socketcand'
        ? new SocketcandLoadConnection(spec, latencySink)
        : spec.protocol === 'waveshare'
          ? new WaveshareLoadConnection(spec, latencySink)
          : spec.protocol === 'cannelloni-udp'
            ? new UdpLoadConnection(spec, latencySink)
            : new CannelloniLoadConnection(spec, latencySink, spec.role === 'send' ? senderIndex++ : -1),
  );
  // Connect in small groups: a burst of 64 SYNs at once can overflow a small accept backlog.
  for (let k = 0; k < connections.length; k += 16) {
    await Promise.all(connections.slice(k, k + 16).map((c) => c.connect()));
  }
  startSenders();
  reply({ type: 'ready', connected: connections.length });
}

process.on('message', (raw: unknown) => {
  const m = raw as ToLoad;
  switch (m.type) {
    case 'config':
      configure(m.config).catch((err: Error) => reply({ type: 'error', message: err.message }));
      break;
    case 'start':
      for (const c of connections) c.resetCounters();
      latency.reset();
      negativeLatency = 0;
      cpuAtStart = process.cpuUsage();
      startedAt = performance.now();
      measuring = true;
      reply({ type: 'started' });
      break;
    case 'stop': {
      measuring = false;
      const elapsedMs = performance.now() - startedAt;
      const cpu = process.cpuUsage(cpuAtStart);
      reply({
        type: 'result',
        elapsedMs,
        clients: connections.map((c) => c.result()),
        latency: latency.toJSON(),
        negativeLatency,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
      });
      break;
    }
    case 'exit':
      if (sendTimer) clearTimeout(sendTimer);
      for (const c of connections) c.stop();
      // Nothing left on the event loop once the IPC channel is gone: the process ends.
      process.disconnect?.();
      break;
  }
});
process.on('disconnect', () => {
  for (const c of connections) c.stop();
});
