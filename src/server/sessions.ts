// The sessions of every protocol: listeners (one per bus or one shared, as the protocol
// says), accept with --max-clients, the session's host (join/leave a bus's hub, send to the
// bus, count, log and announce), kicks, reload and graceful close. Owns the client-side
// counters; the buses own theirs.
//
// Over our ~350-line habit: it is the one SessionHost a session calls, and each method is
// short. The next cut, when it grows, is the listener set (listen, listenerInfo,
// stopListening) into its own module.
import type { Socket } from 'node:net';
import type { Bus, EmitEvent } from '../bus/bus.js';
import type { Config, ListenAddress } from '../config/options.js';
import type { CanFrame } from '../core/frame.js';
import type { ErrorCounts, ErrorWhere } from '../core/error-where.js';
import { toHex } from '../core/hex.js';
import type { CloseReason, JoinOptions, MdnsAdvert, WireProtocol } from '../protocols/types.js';
import type { TxRefusal } from '../guard/tx-guard.js';
import { LagSampler } from '../system/lag-sampler.js';
import type { Logger } from '../system/logger.js';
import { procTcpSendQueues, type TcpSendQueues } from '../system/tcp-send-queues.js';
import { ServerAccess } from './access.js';
import { FlushScheduler } from './flush-scheduler.js';
import { Session, type SessionHost } from './session.js';
import { formatAddress, remoteOf, TcpListener } from './tcp-server.js';

/** Settings read at each accept (SIGHUP may change them): the live config. */
export type SessionSettings = Config;

export interface SessionsOptions {
  buses: readonly Bus[];
  /** Every enabled protocol with its base listen address. */
  protocols: ReadonlyArray<{ protocol: WireProtocol; address: ListenAddress }>;
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

export interface ListenerInfo {
  protocol: string;
  /** Bus index of a per-bus listener; null for a shared one. */
  bus: number | null;
  /** Bound address, `host:port`. */
  address: string;
  host: string;
  port: number;
  /** The protocol's conventional mDNS service, if it has one. */
  mdns: MdnsAdvert | null;
}

/** Per-protocol client counters (tcp_rx/tx_frames_total{protocol}). */
export interface ProtocolSessionCounters {
  framesIn: number;
  /** framesOut of sessions that are gone (live ones are read from the sessions). */
  closedFramesOut: number;
  accepted: number;
  handshakeFailuresByReason: Record<string, number>;
}

/** Bus `index` listens on the configured port + index (port 0 stays 0: ephemeral). */
export function busAddress(base: ListenAddress, index: number): ListenAddress {
  return { host: base.host, port: base.port === 0 ? 0 : base.port + index };
}

/** How many malformed-input log lines one session may produce (the rest is only counted). */
const MALFORMED_LOGS_PER_SESSION = 5;
/** A session's protocol stays known this long after it closed, for late TX confirmations. */
const ORIGIN_MEMORY_MS = 60_000;

export class Sessions implements SessionHost {
  readonly buses: readonly Bus[];
  private readonly listeners: Array<{ info: ListenerInfo | null; listener: TcpListener; protocol: WireProtocol; bus: number | null }> = [];
  private readonly schedulers: FlushScheduler[];
  private readonly live = new Map<number, Session>();
  /** Clients (handshake done) per listener scope, for --max-clients. */
  private readonly perScope = new Map<string, number>();
  private readonly scopes = new WeakMap<Session, string>();
  /** Sessions holding a client slot (counted in perScope and their host's share). */
  private readonly slotted = new WeakSet<Session>();
  private readonly hostOf = new WeakMap<Session, string>();
  readonly access: ServerAccess<Session>;
  private readonly lagSampler: LagSampler;
  /** Frames dropped for clients because they waited longer than --client-max-lag, per bus. */
  readonly staleByBus: number[];
  private readonly protocolById = new Map<number, string>();
  private readonly malformedLogged = new WeakMap<Session, number>();
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
    this.schedulers = options.buses.map(() => new FlushScheduler(options.now));
    for (const { protocol } of options.protocols) this.byProtocol[protocol.name] = { framesIn: 0, closedFramesOut: 0, accepted: 0, handshakeFailuresByReason: {} };
    this.staleByBus = options.buses.map(() => 0);
    this.access = new ServerAccess<Session>({ settings: options.settings, log: options.log, now: options.now });
    this.lagSampler = new LagSampler({
      queues: options.sendQueues ?? procTcpSendQueues(),
      targets: () => this.clients(),
      now: options.now,
      policy: () => options.settings().hubPolicy,
    });
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
    const { log } = this.options;
    for (const { protocol, address } of this.options.protocols) {
      const targets = protocol.layout === 'per-bus' ? this.buses.map((b) => b.index) : [null];
      for (const bus of targets) {
        const scope = bus === null ? `shared:${protocol.name}` : `bus:${bus}`;
        const busName = bus === null ? undefined : this.buses[bus].name;
        const listener = new TcpListener({
          address: bus === null ? address : busAddress(address, bus),
          keepAliveMs: this.options.keepAliveMs,
          // Before anything is read: the allow-list, and a pause while out of descriptors.
          // --max-clients is checked when the negotiation ends: a connection that never says
          // hello must not hold a client slot.
          admit: (socket) => {
            if (this.access.screen(socket, protocol.name, busName) !== null) return false;
            // Slots held by clients are full: refused at once, nothing sent. (Checked again when
            // a negotiation ends, as several may finish together.)
            const max = this.options.settings().maxClients;
            if (max === 0 || (this.perScope.get(scope) ?? 0) < max) return true;
            this.access.refused(socket, 'max_clients', protocol.name, busName);
            this.options.emit('client_rejected', { bus: busName, remote: remoteOf(socket), reason: 'max_clients', message: `client ${remoteOf(socket)} rejected: ${max} clients already connected` });
            return false;
          },
          onRefused: () => {},
          onConnection: (socket) => this.accept(socket, protocol, bus, scope),
          onAcceptError: (err) => {
            this.countError('accept');
            this.access.acceptFailed(err, protocol.name);
          },
        });
        const entry = { info: null as ListenerInfo | null, listener, protocol, bus };
        this.listeners.push(entry);
        const bound = await listener.start();
        entry.info = { protocol: protocol.name, bus, address: formatAddress(bound), host: address.host, port: bound.port, mdns: protocol.mdns ?? null };
        log.info('tcp_listen', { addr: entry.info.address, bus: bus === null ? 'all' : this.buses[bus].name, protocol: protocol.name });
      }
    }
    this.access.start();
    this.lagSampler.start();
  }

  /** Bound listeners, in protocol then bus order. */
  listenerInfo(): ListenerInfo[] {
    return this.listeners.flatMap((l) => (l.info ? [l.info] : []));
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

  protocolOf(id: number): string | null {
    return this.protocolById.get(id) ?? null;
  }

  // ------------------------------------------------------------------ accept

  private accept(socket: Socket, protocol: WireProtocol, bus: number | null, scope: string): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const cfg = this.options.settings();
    const id = this.nextId++;
    const host = this.access.gate.hostOf(socket.remoteAddress);
    const session = new Session({
      id,
      socket,
      remote: remoteOf(socket),
      address: socket.remoteAddress,
      txPolicy: this.access.gate.txPolicy(socket.remoteAddress),
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
    this.protocolById.set(id, protocol.name);
    this.scopes.set(session, scope);
    this.hostOf.set(session, host);
    // Until its negotiation ends it is pending: a host over its share loses its oldest.
    for (const old of this.access.gate.enterPending(host, session)) {
      this.access.refusedSession(old, 'pending_evicted', this.busName(old));
      old.close('pending_evicted');
    }
    session.start();
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

  ready(s: Session): boolean {
    if (this.stopping) return false;
    const host = this.hostOf.get(s) ?? '?';
    this.access.gate.leavePending(host, s);
    const scope = this.scopes.get(s) ?? '';
    const max = this.options.settings().maxClients;
    const refusal = max > 0 && (this.perScope.get(scope) ?? 0) >= max ? 'max_clients' : !this.access.gate.takeSlot(host) ? 'max_clients_per_host' : null;
    if (refusal) {
      this.access.refusedSession(s, refusal, this.busName(s));
      this.options.emit('client_rejected', {
        bus: this.busName(s),
        remote: s.remote,
        reason: refusal,
        message: refusal === 'max_clients' ? `client ${s.remote} rejected: ${max} clients already connected` : `client ${s.remote} rejected: its host already has ${this.options.settings().maxClientsPerHost} clients`,
      });
      s.close('not_allowed');
      return false;
    }
    this.slotted.add(s);
    this.perScope.set(scope, (this.perScope.get(scope) ?? 0) + 1);
    this.accepted++;
    this.byProtocol[s.protocol.name].accepted++;
    const bus = this.busName(s);
    this.access.peerLog(s.address, 'info', 'client_connected', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, ...(s.txGuard.readOnly ? { read_only: true } : {}) });
    this.options.emit('client_connected', { bus, clientId: s.id, remote: s.remote, message: `client ${s.id} connected from ${s.remote} (${s.protocol.name})` });
    return true;
  }

  negotiationFailed(s: Session, reason: string, received: Uint8Array): void {
    this.handshakeFailures++;
    this.handshakeFailuresByReason[reason] = (this.handshakeFailuresByReason[reason] ?? 0) + 1;
    const mine = this.byProtocol[s.protocol.name].handshakeFailuresByReason;
    mine[reason] = (mine[reason] ?? 0) + 1;
    this.countError('handshake');
    const bus = this.busName(s);
    this.access.peerLog(s.address, 'warn', 'handshake_failed', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, reason, received_hex: toHex(received) });
    const why = reason === 'timeout' ? 'no hello in time' : reason === 'bad_magic' ? 'wrong hello' : reason.replace(/_/g, ' ');
    this.options.emit('handshake_failed', { bus, clientId: s.id, remote: s.remote, reason, message: `client ${s.remote}: handshake failed (${why})` });
  }

  txRefused(s: Session, bus: number, frame: CanFrame, reason: TxRefusal, first: boolean) {
    this.byProtocol[s.protocol.name].framesIn++;
    this.access.gate.txRefused(reason, s.protocol.name);
    if (first) this.access.txRefused(s.address, reason, { conn_id: s.id, remote: s.remote, bus: this.buses[bus].name, protocol: s.protocol.name, can_id: frame.id.toString(16) });
    return this.buses[bus].refuseFromClient(frame, reason, s.origin);
  }

  frameTime(bus: number): number {
    return this.buses[bus].frameTime;
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
    const bus = this.busName(s);
    const lag = this.options.settings().clientMaxLag;
    this.access.peerLog(s.address, 'warn', 'client_kicked', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, reason: 'stale', behind_ms: Math.round(behindMs), max_lag_ms: lag });
    this.options.emit('client_kicked', { bus, clientId: s.id, remote: s.remote, reason: 'stale', message: `client ${s.id} (${s.remote}) kicked: it fell more than ${lag} ms behind` });
  }

  malformedInput(s: Session, code: string, detail: string, bytes: Uint8Array | undefined): void {
    this.malformed++;
    this.countError('decode');
    const logged = this.malformedLogged.get(s) ?? 0;
    if (logged >= MALFORMED_LOGS_PER_SESSION) return;
    this.malformedLogged.set(s, logged + 1);
    this.options.log.warn('malformed_frame', {
      conn_id: s.id,
      remote: s.remote,
      bus: this.busName(s),
      protocol: s.protocol.name,
      reason: code,
      error: detail,
      bytes_hex: bytes ? toHex(bytes) : undefined,
    });
  }

  closed(s: Session, reason: CloseReason): void {
    if (this.live.get(s.id) !== s) return;
    this.live.delete(s.id);
    const host = this.hostOf.get(s) ?? '?';
    this.access.gate.leavePending(host, s);
    const scope = this.scopes.get(s);
    const wasClient = this.slotted.has(s);
    if (wasClient) {
      this.slotted.delete(s);
      if (scope) this.perScope.set(scope, (this.perScope.get(scope) ?? 1) - 1);
      this.access.gate.releaseSlot(host);
    }
    for (const bus of s.joined) this.buses[bus].hub.remove(s);
    this.byProtocol[s.protocol.name].closedFramesOut += s.framesOut;
    setTimeout(() => this.protocolById.delete(s.id), ORIGIN_MEMORY_MS).unref();
    if (!wasClient) return; // handshake failures and refusals were logged as such
    if (reason === 'socket_error') this.countError('socket');
    const bus = this.busName(s);
    const refused = s.txGuard.totalRefused();
    this.access.peerLog(s.address, 'info', 'client_disconnected', {
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
      this.options.emit('client_disconnected', { bus, clientId: s.id, remote: s.remote, reason, message: `client ${s.id} (${s.remote}) disconnected: ${reason.replace(/_/g, ' ')}` });
    }
  }

  // ------------------------------------------------------------------ kicks

  /** The hub of bus `bus` kicked session `id` (its queue was full). */
  slowKicked(bus: number, id: number): void {
    const s = this.live.get(id);
    if (!s) return;
    const capacity = this.options.capacity;
    const name = this.buses[bus].name;
    this.options.log.warn('client_kicked', { conn_id: s.id, remote: s.remote, bus: name, protocol: s.protocol.name, reason: 'slow', queue: capacity });
    this.options.emit('client_kicked', { bus: name, clientId: s.id, remote: s.remote, reason: 'slow', message: `client ${s.id} (${s.remote}) kicked: its queue of ${capacity} frames was full` });
  }

  /** Closes client `id` (operator action from `top`). */
  kick(id: number): boolean {
    const s = this.live.get(id);
    if (!s || s.isClosing) return false;
    this.operatorKicks++;
    for (const bus of s.joined) this.buses[bus].hub.remove(s);
    const bus = this.busName(s);
    this.options.log.warn('client_kicked', { conn_id: s.id, remote: s.remote, bus, protocol: s.protocol.name, reason: 'operator' });
    this.options.emit('client_kicked', { bus, clientId: s.id, remote: s.remote, reason: 'operator', message: `client ${s.id} (${s.remote}) kicked by the operator` });
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
    await Promise.all(this.listeners.map((l) => l.listener.stop()));
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
  }

  // ------------------------------------------------------------------ internals

  /** The bus a session is shown under: its listener's, else the one bus it joined, else none. */
  busName(s: Session): string | undefined {
    if (s.listenerBus !== null) return this.buses[s.listenerBus].name;
    if (s.joined.size === 1) return this.buses[[...s.joined][0]].name;
    return undefined;
  }

  private countError(where: ErrorWhere): void {
    this.errorsByWhere[where] = (this.errorsByWhere[where] ?? 0) + 1;
  }
}
