// A complete, realistic Snapshot for tests of the control socket, `status` and metrics.
// Values are distinct numbers so a test can tell which field ended up where.
import type { BusSnapshot, ClientSnapshot, DaemonEvent, Snapshot } from '../../src/control/protocol.js';

export function fakeBus(over: Partial<BusSnapshot> = {}): BusSnapshot {
  return {
    name: 'can0',
    backend: 'socketcan',
    listen: '127.0.0.1:20000',
    backendState: 'open',
    busState: 'error-active',
    stateSince: 1_700_000_000_000,
    bitrate: 50_000,
    fd: false,
    rxFrames: 1234,
    txFrames: 56,
    rxFps: 100,
    txFps: 3,
    busLoad: 24.6,
    busLoadHistory: [20, 22.5, 24.6],
    errorFrames: 2,
    errorCounters: { busOff: 1, errorWarning: 3 },
    stateTransitions: 4,
    txQueueDepth: 5,
    txRetries: 9,
    staleDrops: 6,
    txDrops: { stale: 6, queue_full: 7 },
    reopens: 8,
    lastRxAgeSec: 0.25,
    clients: 2,
    ...over,
  };
}

export function fakeClient(over: Partial<ClientSnapshot> = {}): ClientSnapshot {
  return {
    id: 1,
    protocol: 'cannelloni',
    bus: 'can0',
    remote: '127.0.0.1:40000',
    connectedAt: 1_700_000_000_500,
    framesOut: 1000,
    framesIn: 10,
    bytesOut: 13_000,
    bytesIn: 130,
    queueDepth: 0,
    queueHighWater: 17,
    queueCapacity: 512,
    drops: 0,
    ...over,
  };
}

export function fakeSnapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    time: 1_700_000_100_000,
    daemon: {
      name: 'ampio-bridge',
      version: '0.1.0',
      commit: 'abc1234',
      buildDate: '2025-01-01',
      pid: 4242,
      hostname: 'pi',
      startedAt: 1_700_000_000_000,
      uptimeSec: 100,
      backend: 'socketcan',
      listen: ['127.0.0.1:20000'],
      listeners: [{ protocol: 'cannelloni', bus: 'can0', address: '127.0.0.1:20000' }],
      mdnsName: 'ampio-bridge-pi',
      metricsAddr: '127.0.0.1:9100',
      controlSocket: '/run/ampio-bridge/control.sock',
      config: { 'hub-policy': 'drop', 'hub-buffer': 512 },
    },
    buses: [fakeBus()],
    clients: [fakeClient(), fakeClient({ id: 2, remote: '127.0.0.1:40001', framesOut: 990, drops: 10 })],
    totals: { active: 2, accepted: 5, rejected: 1, kicked: 1, handshakeFailures: 1, malformed: 3, hubDrops: 10 },
    ...over,
  };
}

/** A control source backed by plain fields that a test changes. */
export class FakeControlSource {
  snap: Snapshot = fakeSnapshot();
  clientIds = new Set<number>([1, 2]);
  kicked: number[] = [];
  snapshotCalls = 0;
  private listeners = new Set<(e: DaemonEvent) => void>();

  snapshot(): Snapshot {
    this.snapshotCalls++;
    return this.snap;
  }

  kick(id: number): boolean {
    if (!this.clientIds.delete(id)) return false;
    this.kicked.push(id);
    this.emit({ time: Date.now(), kind: 'client_kicked', clientId: id, message: `client ${id} kicked` });
    return true;
  }

  onEvent(listener: (e: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(e: DaemonEvent): void {
    for (const l of this.listeners) l(e);
  }
}
