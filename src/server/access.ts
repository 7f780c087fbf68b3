// The server's defences against hostile and broken peers, in one place beside the sessions:
// the address allow-list checked before a connection is read from, the pending-handshake
// pool and per-host shares, the TX guard of each session, running out of descriptors on
// accept, and a log that no remote peer can flood. Decisions live in guard/ (pure); this
// file applies them to sockets and counts and logs what happened.
import type { Socket } from 'node:net';
import type { Config } from '../config/options.js';
import { AcceptGovernor } from '../guard/accept-governor.js';
import { type AccessSettings, Gatekeeper, type RejectReason } from '../guard/gatekeeper.js';
import type { TxRefusal } from '../guard/tx-guard.js';
import type { Logger } from '../system/logger.js';
import { descriptorLimit, descriptorsInUse } from '../system/descriptors.js';
import { FdReserve } from '../system/fd-reserve.js';
import { remoteOf } from './tcp-server.js';

export interface AccessOptions {
  settings: () => Config;
  log: Logger;
  now: () => number;
}

export function accessSettings(c: Config): AccessSettings {
  return {
    allow: c.allow,
    txAllow: c.txAllow,
    txRate: c.txRate,
    txIds: c.txIds,
    maxPendingPerHost: c.maxPendingPerHost,
    maxClientsPerHost: c.maxClientsPerHost,
  };
}

/** Who a refused connection is shown as, and why, in one log line. */
const REJECT_TEXT: Record<RejectReason, string> = {
  not_allowed: 'its address is outside --allow',
  max_clients: '--max-clients reached',
  max_clients_per_host: '--max-clients-per-host reached for its host',
  pending_evicted: 'its host has more than --max-pending-per-host connections waiting for their handshake',
  no_descriptors: 'accepting is paused: the process is out of file descriptors',
};

/** Descriptors held back for the control socket and /metrics (see FdReserve). */
const RESERVE = 16;
/** Free descriptors at or below which accepting on the bus ports pauses. */
const LOW_WATER = 2;
/** Free descriptors, beyond the reserve, needed to call an exhaustion over. */
const RECOVERY_MARGIN = 8;
/** Least ms between two counts of open descriptors on accept. */
const CHECK_EVERY_MS = 50;

export class ServerAccess<S> {
  readonly gate: Gatekeeper<S>;
  readonly governor = new AcceptGovernor();
  private readonly reserve = new FdReserve(RESERVE);
  private summaryTimer: NodeJS.Timeout | null = null;
  private fdTimer: NodeJS.Timeout | null = null;
  private readonly fdLimit = descriptorLimit();
  private lastFdCheck = Number.NEGATIVE_INFINITY;
  /** Descriptors open at the last count (null: not counted, e.g. not Linux). */
  fdsInUse: number | null = null;

  constructor(private readonly options: AccessOptions) {
    this.gate = new Gatekeeper<S>(accessSettings(options.settings()));
  }

  start(): void {
    this.reserve.fill();
    this.warnIfOpen(this.options.settings());
    // Summaries of what the peer log limiter held back ("… and 4,993 more …").
    this.summaryTimer = setInterval(() => this.rollLog(), 5_000);
    this.summaryTimer.unref();
    // A running-out that no accept reveals (clients already connected use the last ones) is
    // still seen, and a recovery is noticed without waiting for the next connection.
    this.fdTimer = setInterval(() => {
      const now = this.options.now();
      this.checkDescriptors(now, true);
      this.tryRecover(now);
    }, 1_000);
    this.fdTimer.unref();
  }

  stop(): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    if (this.fdTimer) clearInterval(this.fdTimer);
    this.summaryTimer = this.fdTimer = null;
    for (const s of this.gate.logLimiter.flush(this.options.now()))
      this.options.log.warn('peer_log_suppressed', { host: s.host ?? 'other', suppressed: s.suppressed, message: s.message });
    this.reserve.release();
  }

  /**
   * Called for each accepted socket before anything is read from it. Null: go on; otherwise
   * the socket is destroyed with nothing sent, and the refusal is counted and logged.
   */
  screen(socket: Socket, protocol: string, bus: string | undefined): RejectReason | null {
    const now = this.options.now();
    this.checkDescriptors(now, false);
    if (this.governor.paused(now) || (this.governor.exhausted && !this.tryRecover(now))) {
      this.governor.refused();
      this.gate.reject('no_descriptors', protocol);
      return 'no_descriptors';
    }
    if (this.gate.allowed(socket.remoteAddress)) return null;
    this.refused(socket, 'not_allowed', protocol, bus);
    return 'not_allowed';
  }

  /** Counts and logs (rate-bounded per host) a refused connection. */
  refused(socket: Socket, reason: RejectReason, protocol: string, bus: string | undefined): void {
    this.refusedPeer(socket.remoteAddress, remoteOf(socket), reason, protocol, bus);
  }

  /** The same for a session the server already holds (evicted while pending, refused at ready, dropped on reload). */
  refusedSession(s: { address: string | undefined; remote: string; protocol: { name: string } }, reason: RejectReason, bus: string | undefined): void {
    this.refusedPeer(s.address, s.remote, reason, s.protocol.name, bus);
  }

  private refusedPeer(address: string | undefined, remote: string, reason: RejectReason, protocol: string, bus: string | undefined): void {
    if (reason === 'no_descriptors') return; // counted by screen(), logged by the governor
    this.gate.reject(reason, protocol);
    const event =
      reason === 'not_allowed'
        ? 'client_not_allowed'
        : reason === 'pending_evicted'
          ? 'pending_evicted'
          : reason === 'max_clients'
            ? 'client_reject_max'
            : 'client_rejected';
    this.peerLog(address, 'warn', event, { remote, bus, protocol, reason, message: `connection from ${remote} refused: ${REJECT_TEXT[reason]}` });
  }

  /** accept() failed (the listener's 'error'): EMFILE/ENFILE pause accepting; others are logged. */
  acceptFailed(err: NodeJS.ErrnoException, protocol: string): void {
    const code = err.code ?? 'unknown';
    const now = this.options.now();
    if (code !== 'EMFILE' && code !== 'ENFILE') {
      this.options.log.warn('accept_failed', { protocol, code, error: err.message });
      return;
    }
    // Give the held descriptors back at once: the control socket and /metrics can then
    // accept their next connection, so `status` can tell what is wrong.
    this.reserve.release();
    const { report } = this.governor.failed(code, now);
    if (report) {
      this.options.log.error('accept_exhausted', {
        code: report.code,
        failures: report.failures,
        refused: report.refused,
        pause_ms: Math.round(report.pauseMs),
        message: `out of file descriptors (${report.code}): new connections on the bus ports are closed at once for ${Math.round(report.pauseMs)} ms at a time; the control socket and /metrics keep answering. Raise LimitNOFILE= or find who holds the connections (ss -tnp)`,
      });
    }
    // The reserve is taken again only once the episode is over (tryRecover): refilling it
    // earlier would hand the freed descriptors straight back to the exhaustion.
  }

  /**
   * Counts open descriptors (at most every 50 ms unless forced). At the limit, behaves as an
   * accept() that failed with EMFILE: libuv hides those when its own spare descriptor lets it
   * drop the waiting connections, so counting is the only way to know.
   */
  private checkDescriptors(now: number, force: boolean): void {
    if (this.fdLimit === null || (!force && now - this.lastFdCheck < CHECK_EVERY_MS)) return;
    this.lastFdCheck = now;
    const used = descriptorsInUse(this.fdLimit);
    if (used === null) return;
    this.fdsInUse = used;
    if (this.fdLimit - used <= LOW_WATER) {
      const err = Object.assign(new Error('too many open files'), { code: 'EMFILE' }) as NodeJS.ErrnoException;
      this.acceptFailed(err, 'any');
    }
  }

  /** Ends an exhaustion episode once enough descriptors are free again; true when not (or no longer) exhausted. */
  private tryRecover(now: number): boolean {
    if (!this.governor.exhausted) return true;
    if (this.governor.paused(now)) return false;
    if (this.fdLimit !== null && this.fdsInUse !== null && this.fdLimit - this.fdsInUse < RESERVE + RECOVERY_MARGIN) return false;
    const recovered = this.governor.recovered(now);
    if (!recovered) return false;
    this.options.log.info('accept_recovered', {
      code: recovered.code,
      after_ms: Math.round(recovered.durationMs),
      failures: recovered.failures,
      refused: recovered.refused,
      message: 'file descriptors are available again; accepting connections',
    });
    this.reserve.fill();
    return true;
  }

  /** Logs a first TX refusal of a session (one line per reason per session, bounded per host). */
  txRefused(address: string | undefined, reason: TxRefusal, fields: Record<string, unknown>): void {
    const text: Record<TxRefusal, string> = {
      read_only: 'the client is listen-only (outside --tx-allow): its frames are dropped, it stays connected',
      id_not_allowed: 'a frame ID outside --tx-ids was dropped',
      rate_limited: 'the client sends faster than --tx-rate: extra frames are dropped',
    };
    this.peerLog(address, 'warn', 'tx_refused', { ...fields, reason, message: `${text[reason]} (further refusals only counted)` });
  }

  /** A log line caused by a remote peer: bounded per host and in total (see PeerLogLimiter). */
  peerLog(address: string | undefined, level: 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    const now = this.options.now();
    this.rollLog(now);
    if (this.gate.logLimiter.admit(this.gate.hostOf(address), now)) this.options.log[level](event, fields);
  }

  reload(next: Config): S[] {
    if (next.allow.any && !this.gate.current.allow.any) this.warnIfOpen(next);
    return this.gate.update(accessSettings(next));
  }

  /** `--allow any` is legal, and worth a line at every start: the protocols have no password. */
  private warnIfOpen(c: Config): void {
    if (!c.allow.any) return;
    this.options.log.warn('allow_any', {
      message:
        '--allow any: every address that reaches the bus ports can drive the bus (switch lights, open blinds, disarm the alarm); keep it behind a firewall or VPN, or use --allow local',
    });
  }

  /** Descriptor state for `status`. */
  descriptors(): {
    exhausted: boolean;
    sinceMs: number | null;
    failures: number;
    refused: number;
    reserve: number;
    inUse: number | null;
    limit: number | null;
  } {
    const g = this.governor;
    return {
      exhausted: g.exhausted,
      sinceMs: g.exhausted ? this.options.now() - g.exhaustedSince : null,
      failures: g.failuresTotal,
      refused: g.refusedTotal,
      reserve: this.reserve.held,
      inUse: this.fdsInUse,
      limit: this.fdLimit,
    };
  }

  private rollLog(now = this.options.now()): void {
    for (const s of this.gate.logLimiter.roll(now))
      this.options.log.warn('peer_log_suppressed', { host: s.host ?? 'other', suppressed: s.suppressed, message: s.message });
  }
}
