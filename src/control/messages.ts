// Control-socket messages: requests, replies, pushed messages and reply results (types and
// pure helpers; re-exported by protocol.ts, the one module tui/ and clients import).
import type { DaemonEvent, Snapshot } from './protocol.js';

export const CONTROL_PROTOCOL_VERSION = 1;
/** A line longer than this closes the control connection (protects the daemon). */
export const CONTROL_MAX_LINE = 64 * 1024;
/** Stream interval bounds for `subscribe`. */
export const STREAM_INTERVAL_DEFAULT_MS = 500;
export const STREAM_INTERVAL_MIN_MS = 100;
export const STREAM_INTERVAL_MAX_MS = 60_000;

// ---------------------------------------------------------------- messages

/** First line the daemon sends on every control connection. */
export interface HelloMessage {
  type: 'hello';
  version: typeof CONTROL_PROTOCOL_VERSION;
  daemon: string; // daemon version
  pid: number;
}

export type Request =
  | { id: number | string; type: 'snapshot' }
  | { id: number | string; type: 'subscribe'; interval?: number; events?: boolean }
  | { id: number | string; type: 'unsubscribe' }
  | { id: number | string; type: 'kick'; clientId: number }
  | { id: number | string; type: 'ping' }
  | ({ id: number | string; type: 'frames' } & FramesRequest)
  /** The Ampio state store's values (StateView[]); `filter` = a module address or a module/entity name. */
  | { id: number | string; type: 'ampio_state'; filter?: string };

/** `frames`: live frames of the named buses (all when absent), optionally one ID/mask. */
export interface FramesRequest {
  buses?: string[];
  idValue?: number;
  idMask?: number;
}

/** The reply to `frames`: bus names by index (a LiveFrame names its bus by index). */
export interface FramesResult {
  buses: string[];
}

/** [bus index, µs since the epoch, can_id with flags, 0 rx | 1 tx, len, data hex, fd flags or -1 (classic)] */
export type LiveFrame = [bus: number, tsUs: number, id: number, dir: 0 | 1, len: number, data: string, fd: number];

export interface FramesMessage {
  type: 'frames';
  frames: LiveFrame[];
  /** Frames not sent to this connection since it subscribed (its reader was too slow). */
  dropped: number;
}

export interface FrameFilterRequest {
  /** Bus indexes; empty or absent = all. */
  buses?: number[];
  /** Arbitration ID match: (id & mask) === (value & mask). */
  idValue?: number;
  idMask?: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: number | string;
  result: unknown;
}

export interface ErrorMessage {
  type: 'error';
  id: number | string | null;
  code: 'bad_request' | 'unknown_type' | 'not_found' | 'too_long' | 'internal';
  message: string;
}

export interface SnapshotMessage {
  type: 'snapshot';
  snapshot: Snapshot;
}

export interface EventMessage {
  type: 'event';
  event: DaemonEvent;
}

export type ServerMessage = HelloMessage | ReplyMessage | ErrorMessage | SnapshotMessage | EventMessage | FramesMessage;

// ---------------------------------------------------------------- reply results
// `reply.result` per request type: snapshot → Snapshot, subscribe → SubscribeResult,
// unsubscribe → {}, kick → KickResult, ping → PingResult.

export interface SubscribeResult {
  /** The interval the daemon uses after bounding the requested one. */
  interval: number;
  events: boolean;
}

export interface KickResult {
  /** false when no client with that id was connected */
  kicked: boolean;
}

export interface PingResult {
  pong: true;
  /** daemon clock, ms since epoch */
  time: number;
}

/** Clamps a requested stream interval to the allowed range (default when absent or invalid). */
export function boundInterval(requested: unknown): number {
  if (typeof requested !== 'number' || !Number.isFinite(requested)) return STREAM_INTERVAL_DEFAULT_MS;
  return Math.min(STREAM_INTERVAL_MAX_MS, Math.max(STREAM_INTERVAL_MIN_MS, Math.round(requested)));
}
