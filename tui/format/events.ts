// Daemon events as lines of `top`'s event log. Pure.

import type { BusSnapshot, DaemonEvent } from '../../src/control/protocol.js';
import { busStateSeverity, type Severity } from '../../src/control/present.js';

export interface LogEntry {
  time: number;
  text: string;
  severity: Severity;
}

export function eventSeverity(event: DaemonEvent): Severity {
  switch (event.kind) {
    case 'client_connected':
      return 'info';
    case 'client_disconnected':
      return 'muted';
    case 'client_kicked':
    case 'client_rejected':
    case 'handshake_failed':
      return 'warn';
    case 'backend_absent':
      return 'error';
    case 'backend_reopened':
      return 'ok';
    case 'bus_state': {
      const to = event.to as BusSnapshot['busState'] | undefined;
      if (!to) return 'info';
      const sev = busStateSeverity(to);
      return sev === 'muted' ? 'info' : sev;
    }
  }
}

/** The daemon writes one human sentence per event; fall back to the kind if it is empty. */
export function eventToLogEntry(event: DaemonEvent): LogEntry {
  const text = event.message?.trim() || [event.kind.replace(/_/g, ' '), event.bus, event.remote].filter(Boolean).join(' ');
  return { time: event.time, text, severity: eventSeverity(event) };
}
