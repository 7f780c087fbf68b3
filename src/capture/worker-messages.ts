// Messages between the bridge's main thread and the capture worker (types only).
import type { FrameBatch } from './batch.js';
import type { StoreSummary } from './sqlite-store.js';
import type { LogLevel } from '../core/log-fn.js';
import type { ForwardStatus } from '../control/protocol.js';
import type { CaptureProblem } from './damage.js';

// The forwarder's status is part of the snapshot schema (control/protocol.ts); the worker
// reports it in that shape.
export type { ForwarderState, ForwardStatus } from '../control/protocol.js';

export interface ForwardSettings {
  /** Connection string (may hold a password: never logged). */
  url: string;
  table: string;
  /** What logs and status show: the URL without credentials. */
  display: string;
  /** Rows per COPY transaction (default 200,000). */
  batchRows?: number;
}

export interface WorkerInit {
  path: string;
  commitIntervalMs: number;
  retentionMs: number;
  maxBytes: number;
  /** How often the age bound is checked (the size bound is checked after every commit). */
  retentionCheckMs?: number;
  hostname: string;
  forward: ForwardSettings | null;
  /** How often a run of failing commits (disk full) is logged again, at most (default 60 s). */
  remindEveryMs?: number;
}

export type MainToWorker = { type: 'batch'; batch: FrameBatch } | { type: 'stop' };

export type WorkerToMain =
  | { type: 'ready'; summary: StoreSummary }
  | { type: 'failed'; code: string; message: string; hint: string }
  | { type: 'committed'; frames: number; summary: StoreSummary; commitMs: number }
  | { type: 'commit_failed'; frames: number; message: string }
  /** Commits fail (disk full, I/O error) and capture keeps trying; null once one succeeds again. */
  | { type: 'problem'; problem: CaptureProblem | null }
  /** SQLite found the store damaged while running: the worker closed it and ends; capture is off. */
  | { type: 'damaged'; message: string; hint: string }
  | { type: 'evicted'; rows: number; reason: string }
  | { type: 'forward'; status: ForwardStatus }
  | { type: 'log'; level: LogLevel; event: string; fields?: Record<string, unknown> }
  | { type: 'stopped' };
