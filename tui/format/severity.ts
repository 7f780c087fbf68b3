// Severities of `top`: the bus and backend judgements are the shared ones `status` uses
// (src/control/present.ts); client health is top's own (it compares two snapshots).

import type { ClientSnapshot } from '../../src/control/protocol.js';
import { NEAR_LIMIT_RATIO } from '../../src/control/present.js';

export {
  backendSeverity,
  BUS_LOAD_ERROR,
  BUS_LOAD_WARN,
  busLoadSeverity,
  busSeverity,
  busStateSeverity,
  NEAR_LIMIT_RATIO,
  type Severity,
  worst,
} from '../../src/control/present.js';

export type ClientHealth = 'ok' | 'near' | 'dropping';

/**
 * `dropping`: the hub dropped frames for this client since the previous snapshot (or, with
 * no previous one, the queue is full right now). `near`: the queue is at least 75 % full.
 */
export function clientHealth(client: ClientSnapshot, prev: ClientSnapshot | undefined): ClientHealth {
  if (prev ? client.drops > prev.drops : client.drops > 0 && client.queueDepth >= client.queueCapacity) return 'dropping';
  if (client.queueCapacity > 0 && client.queueDepth >= client.queueCapacity * NEAR_LIMIT_RATIO) return 'near';
  return 'ok';
}
