// View-model types shared by the container (App) and the panels. Plain data only.

import type { LogEntry, Severity } from './format.js';

/** Why `top` is not showing live data. `lost` = it was connected and the daemon went away. */
export type WaitReason = 'not_running' | 'permission' | 'bad_hello' | 'timeout' | 'no_descriptors' | 'lost' | 'error';

export interface ConnectionView {
  phase: 'connecting' | 'live' | 'waiting';
  socketPath: string;
  /** Connection attempts since the last success (1 = first try). */
  attempt: number;
  /** Delay before the next attempt while waiting. */
  retryInMs: number | null;
  reason: WaitReason | null;
  /** The underlying error text, for the waiting screen. */
  detail: string | null;
}

export interface UiMessage {
  text: string;
  severity: Severity;
}

export type { LogEntry };
