// The benchmark scenarios. Rates from the CAN bit timing: an Ampio bus at
// 50 kbit/s carries at most ~400 eight-byte extended frames/s; a saturated 1 Mbit/s bus
// ~21,300 (0-byte standard frames, the absolute ceiling).
import type { ClientSpec } from './messages.js';
import type { TrafficSpec } from './traffic.js';

export const AMPIO_RATE = 400;
export const SATURATED_1M_RATE = 21_300;
/** The default --flush-interval, ms: (b)'s latency budget is this + 2 ms. */
export const DEFAULT_FLUSH_MS = 5;

export interface Timing {
  warmS: number;
  windowS: number;
  windows: number;
}

const readers = (port: number, n: number): ClientSpec[] => Array.from({ length: n }, () => ({ port, role: 'read' as const }));

/** (a) The Ampio case: a 2-CH HAT, both buses at 400 frames/s, 32 clients on each. */
export function scenarioA(t: Timing): TrafficSpec {
  return {
    key: 'a',
    title: 'Ampio: 2 buses × 400 fps, 32 clients per bus',
    bridgeArgs: ['--can-if', 'can0,can1', '--virtual-rate', String(AMPIO_RATE)],
    buses: 2,
    clients: (ports) => ports.flatMap((p) => readers(p, 32)),
    configuredFps: 2 * AMPIO_RATE,
    ...t,
  };
}

/** (b) A saturated 1 Mbit/s bus to 32 clients, with the default flush interval or with 0. */
export function scenarioB(t: Timing, flushZero: boolean): TrafficSpec {
  return {
    key: flushZero ? 'b0' : 'b',
    title: `saturated 1 Mbit/s bus: ${SATURATED_1M_RATE.toLocaleString('en-US')} fps, 32 clients${flushZero ? ', --flush-interval 0' : ''}`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), ...(flushZero ? ['--flush-interval', '0'] : [])],
    buses: 1,
    clients: ([port]) => readers(port, 32),
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}

/** (c) One step of the saturation ramp: 64 clients at `rate` bus frames/s. */
export function scenarioC(t: Timing, rate: number): TrafficSpec {
  return {
    key: `c@${rate}`,
    title: `saturation ramp: ${rate.toLocaleString('en-US')} fps × 64 clients`,
    bridgeArgs: ['--virtual-rate', String(rate)],
    buses: 1,
    clients: ([port]) => readers(port, 64),
    configuredFps: rate,
    ...t,
  };
}

/** (d) (b) with one of 64 clients never reading. */
export function scenarioD(t: Timing): TrafficSpec {
  return {
    key: 'd',
    title: `one stalled client among 63 healthy ones, ${SATURATED_1M_RATE.toLocaleString('en-US')} fps`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE)],
    buses: 1,
    clients: ([port]) => [{ port, role: 'stall' }, ...readers(port, 63)],
    configuredFps: SATURATED_1M_RATE,
    ...t,
    // About 4 MB of kernel buffers (≈ 14 s at this rate) fill before the bridge drops.
    waitForDropsS: 30,
  };
}

/** (e) Idle: 64 clients connected to a silent bus. */
export function scenarioE(t: Timing): TrafficSpec {
  return {
    key: 'e',
    title: 'idle: 64 clients, silent bus',
    bridgeArgs: ['--virtual-rate', '0'],
    buses: 1,
    clients: ([port]) => readers(port, 64),
    configuredFps: 0,
    ...t,
  };
}

/** (s) (b) with 32 socketcand RAW-mode readers instead of cannelloni ones (compare CPU/frame with b). */
export function scenarioS(t: Timing): TrafficSpec {
  return {
    key: 's',
    title: `socketcand: ${SATURATED_1M_RATE.toLocaleString('en-US')} fps, 32 RAW-mode clients`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), '--socketcand-listen', '127.0.0.1:0'],
    buses: 1,
    clients: (_ports, byProtocol) =>
      Array.from({ length: 32 }, () => ({ port: byProtocol.socketcand[0], role: 'read' as const, protocol: 'socketcand' as const })),
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}

/** (f) Clients → bus: 8 clients each sending 2,000 frames/s; the bus echoes to the 7 others. */
export function scenarioF(t: Timing): TrafficSpec {
  return {
    key: 'f',
    title: 'clients → bus: 8 clients × 2,000 fps, echoed to the 7 others',
    bridgeArgs: ['--virtual-rate', '0'],
    buses: 1,
    clients: ([port]) => Array.from({ length: 8 }, () => ({ port, role: 'send' as const, rate: 2000 })),
    configuredFps: 8 * 2000,
    ...t,
  };
}

/**
 * (m) Mixed protocols at saturation: 64 readers of one bus at 21,300 fps, half cannelloni and
 * half tcpcan (`mixed`), or all 64 cannelloni (`m1`, the same load with one protocol), so that
 * the difference is what a second protocol on the bus costs.
 */
export function scenarioM(t: Timing, mixed: boolean): TrafficSpec {
  return {
    key: mixed ? 'm' : 'm1',
    title: mixed ? `mixed: 32 cannelloni + 32 tcpcan clients, ${SATURATED_1M_RATE.toLocaleString('en-US')} fps` : `the same with 64 cannelloni clients`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), ...(mixed ? ['--tcpcan-listen', '127.0.0.1:0'] : [])],
    buses: 1,
    clients: ([port], byProtocol) =>
      mixed
        ? [...readers(port, 32), ...Array.from({ length: 32 }, () => ({ port: byProtocol.tcpcan[0], role: 'read' as const, protocol: 'tcpcan' as const }))]
        : readers(port, 64),
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}

/** (gv) (b) to 32 GVRET sessions (SavvyCAN's connect burst and keepalives): CPU per frame next to (b)'s. */
export function scenarioGvret(t: Timing): TrafficSpec {
  return {
    key: 'gv',
    title: `GVRET: ${SATURATED_1M_RATE.toLocaleString('en-US')} fps to 32 SavvyCAN-style sessions`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), '--gvret-listen', '127.0.0.1:0'],
    buses: 1,
    clients: (_ports, byProtocol) => Array.from({ length: 32 }, () => ({ port: byProtocol.gvret[0], role: 'read' as const, protocol: 'gvret' as const })),
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}

/** (w) (b) to 32 Waveshare readers (Home Assistant's Ampio integration): CPU per delivered frame next to (b)'s. */
export function scenarioWaveshare(t: Timing): TrafficSpec {
  return {
    key: 'w',
    title: `Waveshare: ${SATURATED_1M_RATE.toLocaleString('en-US')} fps, 32 clients (13-byte records)`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), '--waveshare-listen', '127.0.0.1:0'],
    buses: 1,
    clients: (_ports, byProtocol) =>
      Array.from({ length: 32 }, () => ({ port: byProtocol.waveshare[0], role: 'read' as const, protocol: 'waveshare' as const })),
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}

/**
 * (u) cannelloni over UDP: 21,300 fps to one peer (learned from its first datagram), frames
 * packed per --flush-interval up to 1452 bytes; (ut) one cannelloni TCP reader at the same
 * rate, the comparison of the same run.
 */
export function scenarioUdp(t: Timing, udp: boolean): TrafficSpec {
  return {
    key: udp ? 'u' : 'ut',
    title: `${udp ? 'cannelloni UDP' : 'cannelloni TCP'}: ${SATURATED_1M_RATE.toLocaleString('en-US')} fps, one ${udp ? 'peer' : 'reader'}`,
    bridgeArgs: ['--virtual-rate', String(SATURATED_1M_RATE), ...(udp ? ['--cannelloni-udp', '127.0.0.1:0'] : [])],
    buses: 1,
    clients: ([port], byProtocol) => [
      udp ? { port: byProtocol['cannelloni-udp'][0], role: 'read' as const, protocol: 'cannelloni-udp' as const } : { port, role: 'read' as const },
    ],
    configuredFps: SATURATED_1M_RATE,
    ...t,
  };
}
