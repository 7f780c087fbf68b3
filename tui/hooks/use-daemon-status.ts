// Consumes the daemon stream and keeps what the screen needs: connection state, the latest
// two snapshots (rates are computed between them) and the event log. State changes only on a
// snapshot or a connection change, so the screen redraws once per refresh interval; events
// that arrive in between are held and shown with the next snapshot.

import { useEffect, useReducer, useRef } from 'react';
import type { HelloMessage, Snapshot } from '../../src/control/protocol.js';
import { eventToLogEntry, type LogEntry } from '../format.js';
import type { StreamItem } from '../source/daemon-stream.js';
import type { ConnectionView, WaitReason } from '../view.js';

export const DEFAULT_MAX_EVENTS = 200;

export interface DaemonStatus {
  connection: ConnectionView;
  hello: HelloMessage | null;
  snapshot: Snapshot | null;
  previous: Snapshot | null;
  /** Oldest first, at most maxEvents. */
  events: LogEntry[];
}

export type StatusAction =
  | { type: 'connecting'; attempt: number }
  | { type: 'connected'; hello: HelloMessage; events: LogEntry[] }
  | { type: 'snapshot'; snapshot: Snapshot; events: LogEntry[] }
  | { type: 'waiting'; attempt: number; retryInMs: number; reason: WaitReason; detail: string; events: LogEntry[] };

export function initialStatus(socketPath: string): DaemonStatus {
  return {
    connection: { phase: 'connecting', socketPath, attempt: 1, retryInMs: null, reason: null, detail: null },
    hello: null,
    snapshot: null,
    previous: null,
    events: [],
  };
}

function appendEvents(log: LogEntry[], more: LogEntry[], max: number): LogEntry[] {
  if (more.length === 0) return log;
  const all = log.concat(more);
  return all.length > max ? all.slice(all.length - max) : all;
}

/** Pure state transitions (exported for tests). */
export function statusReducer(state: DaemonStatus, action: StatusAction, maxEvents = DEFAULT_MAX_EVENTS): DaemonStatus {
  switch (action.type) {
    case 'connecting':
      // While waiting, a retry is not news: keep the waiting screen steady instead of flashing.
      if (state.connection.phase === 'waiting') return state;
      return { ...state, connection: { ...state.connection, phase: 'connecting', attempt: action.attempt } };
    case 'connected':
      // A (re)started daemon: counters restarted, so rates must not span the two.
      return {
        ...state,
        hello: action.hello,
        snapshot: null,
        previous: null,
        events: appendEvents(state.events, action.events, maxEvents),
        connection: { ...state.connection, phase: 'connecting', retryInMs: null, reason: null, detail: null },
      };
    case 'snapshot':
      return {
        ...state,
        previous: state.snapshot,
        snapshot: action.snapshot,
        events: appendEvents(state.events, action.events, maxEvents),
        connection: { ...state.connection, phase: 'live', attempt: 1, retryInMs: null, reason: null, detail: null },
      };
    case 'waiting':
      return {
        ...state,
        events: appendEvents(state.events, action.events, maxEvents),
        connection: {
          ...state.connection,
          phase: 'waiting',
          attempt: action.attempt,
          retryInMs: action.retryInMs,
          reason: action.reason,
          detail: action.detail,
        },
      };
  }
}

export interface UseDaemonStatusOptions {
  socketPath: string;
  /** Starts the stream; called once per mount with the signal that ends it. */
  source: (signal: AbortSignal) => AsyncIterable<StreamItem>;
  maxEvents?: number;
  /** Clock for locally generated log lines (connection lost/regained). */
  now?: () => number;
}

export interface UseDaemonStatus extends DaemonStatus {
  /** Kicks a client over the live connection; rejects when there is none. */
  kick(clientId: number): Promise<boolean>;
}

export function useDaemonStatus({ socketPath, source, maxEvents = DEFAULT_MAX_EVENTS, now = Date.now }: UseDaemonStatusOptions): UseDaemonStatus {
  const [state, dispatch] = useReducer((s: DaemonStatus, a: StatusAction) => statusReducer(s, a, maxEvents), socketPath, initialStatus);
  const kickRef = useRef<((id: number) => Promise<boolean>) | null>(null);
  const nowRef = useRef(now);
  nowRef.current = now;

  useEffect(() => {
    const ac = new AbortController();
    let pending: LogEntry[] = [];
    let wasLive = false;
    const take = () => {
      const out = pending;
      pending = [];
      return out;
    };
    void (async () => {
      try {
        for await (const item of source(ac.signal)) {
          if (ac.signal.aborted) break;
          switch (item.type) {
            case 'connecting':
              dispatch({ type: 'connecting', attempt: item.attempt });
              break;
            case 'connected':
              kickRef.current = item.kick;
              wasLive = true;
              pending.push({
                time: nowRef.current(),
                text: `connected to the bridge (daemon ${item.hello.daemon}, pid ${item.hello.pid})`,
                severity: 'ok',
              });
              dispatch({ type: 'connected', hello: item.hello, events: take() });
              break;
            case 'event':
              pending.push(eventToLogEntry(item.event));
              break;
            case 'snapshot':
              dispatch({ type: 'snapshot', snapshot: item.snapshot, events: take() });
              break;
            case 'waiting':
              kickRef.current = null;
              if (wasLive) {
                wasLive = false;
                pending.push({ time: nowRef.current(), text: `lost the bridge: ${item.detail}`, severity: 'error' });
              }
              dispatch({ ...item, events: take() });
              break;
          }
        }
      } catch (err) {
        // The stream handles daemon trouble itself; anything else must still not kill the screen.
        if (!ac.signal.aborted) {
          dispatch({
            type: 'waiting',
            attempt: 1,
            retryInMs: 0,
            reason: 'error',
            detail: err instanceof Error ? err.message : String(err),
            events: take(),
          });
        }
      }
    })();
    return () => {
      kickRef.current = null;
      ac.abort();
    };
  }, [source]);

  return {
    ...state,
    kick(clientId: number) {
      const k = kickRef.current;
      if (!k) return Promise.reject(new Error('not connected to the bridge'));
      return k(clientId);
    },
  };
}
