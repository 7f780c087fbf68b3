// Snapshots for the `top` component tests: realistic numbers for an Ampio 50 kbit/s bus.

import type { BusSnapshot, ClientSnapshot, DaemonEvent, Snapshot } from '../../src/control/protocol.js';

/** A fixed "now" so ages and uptimes render the same everywhere. */
export const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

export function makeBus(over: Partial<BusSnapshot> = {}): BusSnapshot {
  return {
    name: 'can0',
    backend: 'socketcan',
    listen: '0.0.0.0:20000',
    backendState: 'open',
    busState: 'error-active',
    stateSince: T0 - 3_723_000, // 1h 02m 03s
    bitrate: 50_000,
    fd: false,
    rxFrames: 1_234_567,
    txFrames: 4321,
    rxFps: 250,
    txFps: 3,
    busLoad: 42.5,
    busLoadHistory: Array.from({ length: 60 }, (_, i) => 30 + (i % 10) * 2),
    errorFrames: 0,
    errorCounters: {},
    stateTransitions: 0,
    txQueueDepth: 0,
    txRetries: 0,
    staleDrops: 0,
    txDrops: {},
    reopens: 0,
    lastRxAgeSec: 0,
    clients: 2,
    ...over,
  };
}

export function makeClient(id: number, over: Partial<ClientSnapshot> = {}): ClientSnapshot {
  return {
    id,
    protocol: 'cannelloni',
    bus: 'can0',
    remote: `192.168.1.${10 + id}:${50000 + id}`,
    connectedAt: T0 - 125_000 * id,
    framesOut: 10_000 * id,
    framesIn: 10 * id,
    bytesOut: 130_000 * id,
    bytesIn: 130 * id,
    queueDepth: 0,
    queueHighWater: 12,
    queueCapacity: 512,
    drops: 0,
    ...over,
  };
}

export function makeSnapshot(over: Partial<Snapshot> = {}): Snapshot {
  const clients = over.clients ?? [makeClient(1), makeClient(2)];
  return {
    time: T0,
    daemon: {
      name: 'ampio-bridge',
      version: '0.1.0',
      commit: 'abcdef1234',
      buildDate: '2025-06-01',
      pid: 4242,
      hostname: 'pi-hall',
      startedAt: T0 - 7_384_000,
      uptimeSec: 7384,
      backend: 'socketcan',
      listen: ['0.0.0.0:20000'],
      listeners: [{ protocol: 'cannelloni', bus: 'can0', address: '0.0.0.0:20000' }],
      mdnsName: 'ampio-bridge-pi-hall',
      metricsAddr: null,
      controlSocket: '/run/ampio-bridge/control.sock',
      config: {},
    },
    buses: [makeBus({ clients: clients.length })],
    clients,
    totals: { active: clients.length, accepted: 7, rejected: 0, kicked: 1, handshakeFailures: 2, malformed: 0, hubDrops: 0 },
    ...over,
  };
}

/** The snapshot one second later: every client moved 250 frames out and 2 in. */
export function advance(s: Snapshot, ms = 1000, out = 250, inn = 2): Snapshot {
  return {
    ...s,
    time: s.time + ms,
    daemon: { ...s.daemon, uptimeSec: s.daemon.uptimeSec + ms / 1000 },
    clients: s.clients.map((c) => ({ ...c, framesOut: c.framesOut + (out * ms) / 1000, framesIn: c.framesIn + (inn * ms) / 1000 })),
  };
}

export function makeEvent(over: Partial<DaemonEvent> = {}): DaemonEvent {
  return {
    time: T0 - 5000,
    kind: 'client_connected',
    clientId: 3,
    remote: '192.168.1.13:50003',
    message: 'client #3 connected from 192.168.1.13:50003',
    ...over,
  };
}
