// The words every room uses about a backend and a frame it was handed: which kind it is,
// whether the device is reachable, and why a frame did not make it. Here on the ground floor
// so the bus, the sessions, the plug-ins, metrics and the control protocol name them without
// importing the backends.
import type { TxDropReason } from './tx-queue.js';

/** The backends `--backend` accepts (the options table's enum is this list). */
export const BACKEND_KINDS = ['socketcan', 'serial', 'virtual'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** Whether the bridge can reach the device at all. */
export type BackendState = 'opening' | 'open' | 'absent' | 'closed';

/**
 * Why a frame did not make it (label of `frames_dropped_total{reason}`): what a TX queue
 * gives up on, plus what the daemon itself filters or limits.
 */
export type DropReason = TxDropReason | 'filtered' | 'rate_limited' | 'client_slow' | 'read_only' | 'id_not_allowed';

export type SendResult = { ok: true } | { ok: false; reason: DropReason };
