// The sessions of every protocol: accept (a listener of listener-set.ts hands over the
// socket; client-slots.ts counts who holds a slot), the session's host (join/leave a bus's
// hub, send to the bus, count), kicks, reload and graceful close. Owns the client-side
// counters; the buses own theirs. What it logs and announces is worded in session-reports.ts.
import type { Socket } from 'node:net';
import type { Bus, EmitEvent } from '../bus/bus.js';
import type { Config } from '../config/options.js';
import type { CanFrame } from '../core/frame.js';
import type { ErrorCounts, ErrorWhere } from '../core/error-where.js';
import type { CloseReason, JoinOptions, WireProtocol } from '../protocols/types.js';
import type { TxRefusal } from '../guard/tx-guard.js';
import { LagSampler } from '../system/lag-sampler.js';
import type { Logger } from '../system/logger.js';
import { procTcpSendQueues, type TcpSendQueues } from '../system/tcp-send-queues.js';
import { ServerAccess } from './access.js';
import { ClientSlots } from './client-slots.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { Session, type SessionHost } from './session.js';
import { type ListenerInfo, ListenerSet, refusalText } from './listener-set.js';
import { SessionReports } from './session-reports.js';
import { remoteOf } from './tcp-server.js';
import type { SessionSocket } from './session-socket.js';
import { type EnabledProtocol, type OutboundState, RemoteSessions, type SessionMeta } from './remote-sessions.js';

export type { EnabledProtocol };

/** Settings read at each accept (SIGHUP may change them): the live config. */
export type SessionSettings = Config;

export interface SessionsOptions {
  buses: readonly Bus[];
  /**
   * One flush scheduler per bus, in bus order. The daemon makes them and hands each to its
   * bus too (as the bus's `pacing`), so the end of a paced read reaches them directly.
   */
  schedulers: readonly FlushScheduler[];
  /** Every enabled protocol. */
  protocols: ReadonlyArray<EnabledProtocol>;
  /** Frames queued per session (--hub-buffer; structural). */
  capacity: number;
  settings: () => SessionSettings;
  now: () => number;
  wallClock: () => number;
  log: Logger;
  emit: EmitEvent;
  keepAliveMs: number;
  /** The kernel's per-connection send queues (default: /proc/net/tcp{,6}). */
  sendQueues?: TcpSendQueues;
}

/** Per-protocol client counters (tcp_rx/tx_frames_total{protocol}). */
export interface ProtocolSessionCounters {
  framesIn: number;
  /** framesOut of sessions that are gone (live ones are read from the sessions). */
  closedFramesOut: number;
  accepted: number;
  handshakeFailuresByReason: Record<string, number>;
  /** Datagram protocols: datagrams lost and misordered, by the peers' sequence numbers. */
  datagramsLost: number;
  datagramsMisordered: number;
  /** Datagrams from senders that could not become peers (not allowed, no client slot). */
  datagramsRefused: number;
}

export class Sessions implements SessionHost<Session> {
  readonly buses: readonly Bus[];
  private readonly listenerSet: ListenerSet;
  /** UDP peers of datagram protocols and the servers the bridge dials. */
  readonly remote: RemoteSessions;
  private readonly schedulers: readonly FlushScheduler[];
  private readonly live = new Map<number, Session>();
  private readonly slots: ClientSlots<Session>;
  readonly access: ServerAccess<Session>;
  private readonly lagSampler: LagSampler;
  /** Frames dropped for clients because they waited longer than --client-max-lag, per bus. */
  readonly staleByBus: number[];
  /** Bus frames protocols withheld from clients that cannot take them, per bus, by reason. */
  readonly withheldByBus: Array<Record<string, number>>;
  private readonly reports: SessionReports;
  private nextId = 1;
  private stopping = false;

  // Counters (one source each).
  accepted = 0;
  operatorKicks = 0;
  lagKicks = 0;
  handshakeFailures = 0;
  readonly handshakeFailuresByReason: Record<string, number> = {};
  malformed = 0;
  readonly errorsByWhere: ErrorCounts = {};
  readonly byProtocol: Record<string, ProtocolSessionCounters> = {};

  constructor(private readonly options: SessionsOptions) {
    this.buses = options.buses;
    this.schedulers = options.schedulers;
    for (const { protocol } of options.protocols) {
      this.byProtocol[protocol.name] = {
        framesIn: 0,
        closedFramesOut: 0,
        accepted: 0,
        handshakeFailuresByReason: {},
        datagramsLost: 0,
        datagramsMisordered: 0,
        datagramsRefused: 0,
      };
    }
    this.staleByBus = options.buses.map(() => 0);
    this.withheldByBus = options.buses.map(() => ({}));
    this.access = new ServerAccess<Session>({ settings: options.settings, log: options.log, now: options.now });
    this.slots = new ClientSlots(this.access.gate, () => options.settings().maxClients);
    this.lagSampler = new LagSampler({
      queues: options.sendQueues ?? procTcpSendQueues(),
      targets: () => this.clients(),
      now: options.now,
      policy: () => options.settings().hubPolicy,
    });
    this.listenerSet = new ListenerSet({
      buses: options.buses,
      protocols: options.protocols.flatMap((p) => (p.address && !p.protocol.datagram ? [{ protocol: p.protocol, address: p.address }] : [])),
      keepAliveMs: options.keepAliveMs,
      access: this.access,
      maxClients: () => options.settings().maxClients,
      scopeFull: (scope) => this.slots.scopeFull(scope),
      log: options.log,
      emit: options.emit,
      onConnection: (socket, protocol, bus, scope) => this.accept(socket, protocol, bus, scope),
      onAcceptError: () => this.countError('accept'),
    });
    this.reports = new SessionReports({ log: options.log, emit: options.emit, access: this.access, busName: (s) => this.busName(s) });
    this.remote = new RemoteSessions(
      {
        busNames: options.buses.map((b) => b.name),
        log: options.log,
        now: options.now,
        keepAliveMs: options.keepAliveMs,
        admit: (address, remote, protocol, bus, scope) => this.admitDatagramPeer(address, remote, protocol, bus, scope),
        refusedDatagram: (protocol) => void this.byProtocol[protocol].datagramsRefused++,
        open: (socket, meta) => this.open(socket, meta),
      },
      options.protocols,
    );
  }

  /** Connection attempts refused, whatever the reason (hub_rejected_clients_total). */
  get rejected(): number {
    return this.access.gate.totalRejected();
  }

  /** Monotonic ms (how far behind a client is, in the snapshot). */
  monotonicNow(): number {
    return this.options.now();
  }

  /** Connections still negotiating (they hold no client slot). */
  get pending(): number {
    return this.access.gate.pending.size;
  }

  private *clients(): IterableIterator<Session> {
    for (const s of this.live.values()) if (s.isHandshaken) yield s;
  }

  /** Binds every listener; throws a ListenError (after closing what was bound) on failure. */
  async listen(): Promise<void> {
    await this.listenerSet.listen();
    await this.remote.start();
    this.access.start();
    this.lagSampler.start();
  }

  /** Bound listeners, in protocol then bus order. */
  listenerInfo(): ListenerInfo[] {
    return [...this.listenerSet.info(), ...this.remote.listenerInfo()];
  }

  sessions(): IterableIterator<Session> {
    return this.live.values();
  }

  scheduler(bus: number): FlushScheduler {
    return this.schedulers[bus];
  }

  forwardErrors(): boolean {
    return this.options.settings().forwardErrors;
  }

  // ------------------------------------------------------------------ accept

  private accept(socket: Socket, protocol: WireProtocol, bus: number | null, scope: string): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.open(socket, { remote: remoteOf(socket), address: socket.remoteAddress, protocol, bus, scope, direction: 'in' });
  }

  /** Makes a session of a connection (accepted, dialled) or a datagram peer, and starts it. */
  private open(socket: SessionSocket, m: SessionMeta): Session {
    const { protocol, bus, scope } = m;
    const cfg = this.options.settings();
    const id = this.nextId++;
    const session = new Session({
      id,
      socket,
      direction: m.direction,
      remote: m.remote,
      address: m.address,
      txPolicy: this.access.gate.txPolicy(m.address),
      maxLagMs: cfg.clientMaxLag,
      protocol,
      listenerBus: bus,
      capacity: this.options.capacity,
      batchSize: cfg.batchSize,
      flushInterval: cfg.flushInterval,
      handshakeTimeout: cfg.handshakeTimeout,
      readTimeout: cfg.clientReadTimeout,
      now: this.options.now,
      wallClock: this.options.wallClock,
      log: this.options.log,
      host: this,
    });
    this.live.set(id, session);
    // Until its negotiation ends it is pending: a host over its share loses its oldest.
    for (const old of this.slots.enter(session, m.address, scope)) {
      this.access.refusedSession(old, 'pending_evicted', this.busName(old));
      old.close('pending_evicted');
    }
    session.start();
    return session;
  }

  /** An unknown UDP sender becomes a learned peer only if --allow admits it and a client slot is free. */
  private admitDatagramPeer(address: string, remote: string, protocol: WireProtocol, bus: number, scope: string): boolean {
    if (this.stopping) return false;
    const who = { address, remote, protocol };
    const busName = this.buses[bus].name;
    if (!this.access.gate.allowed(address)) {
      this.access.refusedSession(who, 'not_allowed', busName);
      return false;
    }
    if (this.slots.scopeFull(scope)) {
      this.access.refusedSession(who, 'max_clients', busName);
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------ SessionHost

  join(s: Session, bus: number, options?: JoinOptions): void {
    this.buses[bus].hub.add(s, options?.encoder ?? s.protocol.encoder, { filter: options?.filter });
  }

  leave(s: Session, bus: number): void {
    this.buses[bus].hub.remove(s);
  }

  send(s: Session, bus: number, frame: CanFrame) {
    this.byProtocol[s.protocol.name].framesIn++;
    return this.buses[bus].send(frame, s.origin);
  }

  ready(s: Session): string | null {
    if (this.stopping) return 'refused: the server is shutting down';
    const refusal = this.slots.take(s);
    if (refusal) {
      const cfg = this.options.settings();
      const limit = refusal === 'max_clients' ? cfg.maxClients : cfg.maxClientsPerHost;
      this.reports.rejected(s, refusal, limit);
      return refusalText(refusal, limit);
    }
    this.accepted++;
    this.byProtocol[s.protocol.name].accepted++;
    this.reports.connected(s);
    return null;
  }

  negotiationFailed(s: Session, reason: string, received: Uint8Array): void {
    this.handshakeFailures++;
    this.handshakeFailuresByReason[reason] = (this.handshakeFailuresByReason[reason] ?? 0) + 1;
    const mine = this.byProtocol[s.protocol.name].handshakeFailuresByReason;
    mine[reason] = (mine[reason] ?? 0) + 1;
    this.countError('handshake');
    this.reports.handshakeFailed(s, reason, received);
  }

  txRefused(s: Session, bus: number, frame: CanFrame, reason: TxRefusal, first: boolean) {
    this.byProtocol[s.protocol.name].framesIn++;
    this.access.gate.txRefused(reason, s.protocol.name);
    if (first)
      this.access.txRefused(s.address, reason, {
        conn_id: s.id,
        remote: s.remote,
        bus: this.buses[bus].name,
        protocol: s.protocol.name,
        can_id: frame.id.toString(16),
      });
    return this.buses[bus].refuseFromClient(frame, reason, s.origin);
  }

  withheld(_s: Session, bus: number, reason: string): void {
    const counts = this.withheldByBus[bus];
    if (counts) counts[reason] = (counts[reason] ?? 0) + 1;
  }

  staleDropped(s: Session, count: number): void {
    const bus = s.listenerBus ?? [...s.joined][0] ?? 0;
    this.staleByBus[bus] += count;
  }

  hubPolicy(): 'drop' | 'kick' {
    return this.options.settings().hubPolicy;
  }

  lagKicked(s: Session, behindMs: number): void {
    this.lagKicks++;
    this.reports.lagKicked(s, behindMs, this.options.settings().clientMaxLag);
  }

  malformedInput(s: Session, code: string, detail: string, bytes: Uint8Array | undefined): void {
    this.malformed++;
    this.countError('decode');
    this.reports.malformed(s, code, detail, bytes);
  }

  sequence(s: Session, lost: number, misordered: number): void {
    const p = this.byProtocol[s.protocol.name];
    p.datagramsLost += lost;
    p.datagramsMisordered += misordered;
  }

  closed(s: Session, reason: CloseReason): void {
    if (this.live.get(s.id) !== s) return;
    this.live.delete(s.id);
    const wasClient = this.slots.release(s);
    for (const bus of s.joined) this.buses[bus].hub.remove(s);
    this.byProtocol[s.protocol.name].closedFramesOut += s.framesOut;
    if (!wasClient) return; // handshake failures and refusals were logged as such
    if (reason === 'socket_error') this.countError('socket');
    this.reports.disconnected(s, reason);
  }

  // ------------------------------------------------------------------ kicks

  /** The hub of bus `bus` kicked session `s` (its queue was full). */
  slowKicked(s: Session, bus: number): void {
    this.reports.slowKicked(s, this.buses[bus].name, this.options.capacity);
  }

  /** Closes client `id` (operator action from `top`). */
  kick(id: number): boolean {
    const s = this.live.get(id);
    if (!s || s.isClosing) return false;
    this.operatorKicks++;
    for (const bus of s.joined) this.buses[bus].hub.remove(s);
    this.reports.operatorKicked(s);
    s.close('kicked_by_operator');
    return true;
  }

  /**
   * Applies reloadable settings to running sessions: new allow-lists close the sessions no
   * longer allowed (counted as not_allowed) and give the others their new TX guard.
   */
  reload(next: SessionSettings): void {
    for (const old of this.access.reload(next)) {
      this.access.refusedSession(old, 'pending_evicted', this.busName(old));
      old.close('pending_evicted');
    }
    const now = this.options.now();
    for (const s of this.live.values()) {
      s.batchSize = next.batchSize;
      s.flushInterval = next.flushInterval;
      s.readTimeout = next.clientReadTimeout;
      s.freshness.maxLagMs = next.clientMaxLag;
      if (!this.access.gate.allowed(s.address)) {
        this.access.refusedSession(s, 'not_allowed', this.busName(s));
        s.close('not_allowed');
        continue;
      }
      s.txGuard.reconfigure(this.access.gate.txPolicy(s.address), now);
    }
  }

  // ------------------------------------------------------------------ stop

  /** Stops accepting; existing sessions stay. */
  async stopListening(): Promise<void> {
    this.stopping = true;
    this.lagSampler.stop();
    this.access.stop();
    this.remote.stopDialing();
    await this.listenerSet.stop();
  }

  /** Flushes and closes every session; those that do not close within `graceMs` are destroyed. */
  async closeAll(graceMs: number): Promise<void> {
    this.stopping = true;
    const closing: Promise<void>[] = [];
    for (const s of this.live.values()) {
      s.close('shutdown');
      closing.push(s.whenClosed());
    }
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const s of this.live.values()) s.destroy();
    // UDP sockets last: the peers' sessions flushed through them above.
    await this.remote.stopEndpoints();
  }

  // ------------------------------------------------------------------ internals

  /** The bus a session is shown under: its listener's, else the one bus it joined, else none. */
  busName(s: Session): string | undefined {
    if (s.listenerBus !== null) return this.buses[s.listenerBus].name;
    if (s.joined.size === 1) return this.buses[[...s.joined][0]].name;
    return undefined;
  }

  /** The outbound connections and their state (status, top, metrics). */
  outbound(): OutboundState[] {
    return this.remote.outbound();
  }

  private countError(where: ErrorWhere): void {
    this.errorsByWhere[where] = (this.errorsByWhere[where] ?? 0) + 1;
  }
}
