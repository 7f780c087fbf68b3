// What the server says about its sessions: one log line each (go-ampio-server's event names:
// client_connected, client_disconnected, client_kicked, handshake_failed, malformed_frame)
// and, where `top` shows it, one event with a sentence for people. Lines a remote peer can
// cause go through the access log limiter, so no peer can flood the log; malformed-input
// lines are capped per session (the rest is only counted by the caller).
import type { EmitEvent } from '../bus/bus.js';
import { toHex } from '../core/hex.js';
import type { CloseReason } from '../protocols/types.js';
import type { Logger } from '../system/logger.js';
import type { ServerAccess } from './access.js';
import type { Session } from './session.js';

/** How many malformed-input log lines one session may produce. */
const MALFORMED_LOGS_PER_SESSION = 5;

export interface SessionReportsOptions {
  log: Logger;
  emit: EmitEvent;
  access: ServerAccess<Session>;
  /** The bus a session is shown under (none for a shared-listener session on several buses). */
  busName(s: Session): string | undefined;
}

export class SessionReports {
  private readonly malformedLogged = new WeakMap<Session, number>();

  constructor(private readonly options: SessionReportsOptions) {}

  connected(s: Session): void {
    const bus = this.options.busName(s);
    this.options.access.peerLog(s.address, 'info', 'client_connected', {
      conn_id: s.id,
      remote: s.remote,
      bus,
      protocol: s.protocol.name,
      ...(s.txGuard.readOnly ? { read_only: true } : {}),
    });
    this.options.emit('client_connected', { bus, clientId: s.id, remote: s.remote, message: `client ${s.id} connected from ${s.remote} (${s.protocol.name})` });
  }

  /** Refused when its negotiation ended: `limit` is the --max-clients or --max-clients-per-host it hit. */
  rejected(s: Session, reason: 'max_clients' | 'max_clients_per_host', limit: number): void {
    const bus = this.options.busName(s);
    this.options.access.refusedSession(s, reason, bus);
    this.options.emit('client_rejected', {
      bus,
      remote: s.remote,
      reason,
      message:
        reason === 'max_clients'
          ? `client ${s.remote} rejected: ${limit} clients already connected`
          : `client ${s.remote} rejected: its host already has ${limit} clients`,
    });
  }

  handshakeFailed(s: Session, reason: string, received: Uint8Array): void {
    const bus = this.options.busName(s);
    this.options.access.peerLog(s.address, 'warn', 'handshake_failed', {
      conn_id: s.id,
      remote: s.remote,
      bus,
      protocol: s.protocol.name,
      reason,
      received_hex: toHex(received),
    });
    const why = reason === 'timeout' ? 'no hello in time' : reason === 'bad_magic' ? 'wrong hello' : reason.replace(/_/g, ' ');
    this.options.emit('handshake_failed', { bus, clientId: s.id, remote: s.remote, reason, message: `client ${s.remote}: handshake failed (${why})` });
  }

  /** Kicked by the hub policy for falling more than `maxLagMs` (--client-max-lag) behind. */
  lagKicked(s: Session, behindMs: number, maxLagMs: number): void {
    const bus = this.options.busName(s);
    this.options.access.peerLog(s.address, 'warn', 'client_kicked', {
      conn_id: s.id,
      remote: s.remote,
      bus,
      protocol: s.protocol.name,
      reason: 'stale',
      behind_ms: Math.round(behindMs),
      max_lag_ms: maxLagMs,
    });
    this.options.emit('client_kicked', {
      bus,
      clientId: s.id,
      remote: s.remote,
      reason: 'stale',
      message: `client ${s.id} (${s.remote}) kicked: it fell more than ${maxLagMs} ms behind`,
    });
  }

  /** Kicked by the hub of bus `bus` because its queue of `capacity` frames was full. */
  slowKicked(s: Session, bus: string, capacity: number): void {
    this.options.log.warn('client_kicked', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, reason: 'slow', queue: capacity });
    this.options.emit('client_kicked', {
      bus,
      clientId: s.id,
      remote: s.remote,
      reason: 'slow',
      message: `client ${s.id} (${s.remote}) kicked: its queue of ${capacity} frames was full`,
    });
  }

  operatorKicked(s: Session): void {
    const bus = this.options.busName(s);
    this.options.log.warn('client_kicked', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, reason: 'operator' });
    this.options.emit('client_kicked', {
      bus,
      clientId: s.id,
      remote: s.remote,
      reason: 'operator',
      message: `client ${s.id} (${s.remote}) kicked by the operator`,
    });
  }

  malformed(s: Session, code: string, detail: string, bytes: Uint8Array | undefined): void {
    const logged = this.malformedLogged.get(s) ?? 0;
    if (logged >= MALFORMED_LOGS_PER_SESSION) return;
    this.malformedLogged.set(s, logged + 1);
    this.options.log.warn('malformed_frame', {
      conn_id: s.id,
      remote: s.remote,
      bus: this.options.busName(s),
      protocol: s.protocol.name,
      reason: code,
      error: detail,
      bytes_hex: bytes ? toHex(bytes) : undefined,
    });
  }

  /** A client (negotiation done) went away; kicks were announced when they happened. */
  disconnected(s: Session, reason: CloseReason): void {
    const bus = this.options.busName(s);
    const refused = s.txGuard.totalRefused();
    this.options.access.peerLog(s.address, 'info', 'client_disconnected', {
      conn_id: s.id,
      remote: s.remote,
      bus,
      protocol: s.protocol.name,
      reason,
      frames_out: s.framesOut,
      frames_in: s.framesIn,
      drops: s.drops,
      ...(s.freshness.staleDrops > 0 ? { stale_drops: s.freshness.staleDrops } : {}),
      ...(refused > 0 ? { tx_refused: refused } : {}),
    });
    if (reason !== 'kicked_slow' && reason !== 'kicked_by_operator') {
      this.options.emit('client_disconnected', {
        bus,
        clientId: s.id,
        remote: s.remote,
        reason,
        message: `client ${s.id} (${s.remote}) disconnected: ${reason.replace(/_/g, ' ')}`,
      });
    }
  }
}
