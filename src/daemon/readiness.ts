// Readiness: the fields of the `ready` log line, and /ready's answer for running buses (every
// bus has its listener bound, its backend open and is not bus-off; the first that is not says why).
import type { Bus } from '../bus/bus.js';
import { type Config, formatDuration } from '../config/options.js';
import type { ListenerInfo } from '../server/listener-set.js';

export function busReadiness(buses: readonly Bus[], listeners: readonly ListenerInfo[]): { ready: boolean; reason: string } {
  for (const b of buses) {
    if (!listeners.some((l) => l.bus === b.index)) return { ready: false, reason: `${b.name}: listener not bound` };
    if (b.backendState !== 'open') return { ready: false, reason: `${b.name}: backend ${b.backendState}` };
    if (b.busState === 'bus-off') return { ready: false, reason: `${b.name}: bus-off` };
  }
  return { ready: true, reason: 'ready' };
}

/** The `ready` line: what serves where, and the hub settings in force. `addresses`: each bus's first listener. */
export function readyFields(config: Config, buses: readonly Bus[], listeners: readonly ListenerInfo[], addresses: readonly string[]): Record<string, unknown> {
  return {
    backend: config.backend,
    buses: buses.map((b, i) => `${b.name}@${addresses[i]}`).join(','),
    listeners: listeners.map((l) => `${l.protocol}:${l.bus === null ? 'all' : buses[l.bus].name}@${l.address}`).join(','),
    hub_buffer: config.hubBuffer,
    hub_policy: config.hubPolicy,
    flush_interval: formatDuration(config.flushInterval),
    batch_size: config.batchSize,
  };
}
