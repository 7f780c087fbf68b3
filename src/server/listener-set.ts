// The listeners of every protocol: one per bus (the base port + the bus index) or one shared
// by all buses, as the protocol's layout says; what each lets in before a byte is read (the
// allow-list, the pause while out of descriptors, a full --max-clients scope). Sessions
// (sessions.ts) get the accepted sockets.
import type { Socket } from 'node:net';
import type { Bus, EmitEvent } from '../bus/bus.js';
import type { ListenAddress } from '../config/options.js';
import type { MdnsAdvert, WireProtocol } from '../protocols/types.js';
import type { Logger } from '../system/logger.js';
import type { ServerAccess } from './access.js';
import type { Session } from './session.js';
import { formatAddress, remoteOf, TcpListener } from './tcp-server.js';

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
  /** Absent: TCP. */
  transport?: 'udp';
}

/** Bus `index` listens on the configured port + index (port 0 stays 0: ephemeral). */
export function busAddress(base: ListenAddress, index: number): ListenAddress {
  return { host: base.host, port: base.port === 0 ? 0 : base.port + index };
}

export interface ListenerSetOptions {
  buses: readonly Bus[];
  /** Every enabled protocol with its base listen address. */
  protocols: ReadonlyArray<{ protocol: WireProtocol; address: ListenAddress }>;
  keepAliveMs: number;
  access: ServerAccess<Session>;
  /** --max-clients now (SIGHUP may change it), for the refusal's message. */
  maxClients: () => number;
  /** Whether every client slot of a listener scope is taken. */
  scopeFull(scope: string): boolean;
  log: Logger;
  emit: EmitEvent;
  /** An admitted connection; `scope` names the listener whose client slots it will count in
   * (`bus:N` for a per-bus listener, `shared:PROTOCOL` for a shared one). */
  onConnection(socket: Socket, protocol: WireProtocol, bus: number | null, scope: string): void;
  /** accept() itself failed (counted as errors_total{where="accept"}). */
  onAcceptError(): void;
}

export class ListenerSet {
  private readonly listeners: Array<{ info: ListenerInfo | null; listener: TcpListener }> = [];

  constructor(private readonly options: ListenerSetOptions) {}

  /** Binds every listener; throws a ListenError (the caller closes what was bound) on failure. */
  async listen(): Promise<void> {
    const { buses, log } = this.options;
    for (const { protocol, address } of this.options.protocols) {
      const targets = protocol.layout === 'per-bus' ? buses.map((b) => b.index) : [null];
      for (const bus of targets) {
        const scope = bus === null ? `shared:${protocol.name}` : `bus:${bus}`;
        const listener = new TcpListener({
          address: bus === null ? address : busAddress(address, bus),
          keepAliveMs: this.options.keepAliveMs,
          admit: (socket) => this.admit(socket, protocol, bus === null ? undefined : buses[bus].name, scope),
          onRefused: () => {},
          onResetBeforeAccept: () => this.options.access.gate.resetBeforeAccept(protocol.name),
          onConnection: (socket) => this.options.onConnection(socket, protocol, bus, scope),
          onAcceptError: (err) => {
            this.options.onAcceptError();
            this.options.access.acceptFailed(err, protocol.name);
          },
        });
        const entry = { info: null as ListenerInfo | null, listener };
        this.listeners.push(entry);
        const bound = await listener.start();
        entry.info = { protocol: protocol.name, bus, address: formatAddress(bound), host: address.host, port: bound.port, mdns: protocol.mdns ?? null };
        log.info('tcp_listen', { addr: entry.info.address, bus: bus === null ? 'all' : buses[bus].name, protocol: protocol.name });
      }
    }
  }

  /** Bound listeners, in protocol then bus order. */
  info(): ListenerInfo[] {
    return this.listeners.flatMap((l) => (l.info ? [l.info] : []));
  }

  async stop(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.listener.stop()));
  }

  /**
   * Before anything is read (or sent): the allow-list, and a pause while out of descriptors,
   * both closed with nothing sent. A full scope (--max-clients) or a host that holds its whole
   * share (--max-clients-per-host) is refused before the greeting too: with the protocol's
   * error form where it has one, else with nothing sent. Both are checked again when a
   * negotiation ends (several may finish together), because a connection that never says
   * hello must not hold a client slot.
   */
  private admit(socket: Socket, protocol: WireProtocol, busName: string | undefined, scope: string): boolean | Uint8Array {
    const { access } = this.options;
    if (access.screen(socket, protocol.name, busName) !== null) return false;
    const remote = remoteOf(socket);
    if (this.options.scopeFull(scope)) {
      const max = this.options.maxClients();
      access.refused(socket, 'max_clients', protocol.name, busName);
      this.options.emit('client_rejected', {
        bus: busName,
        remote,
        reason: 'max_clients',
        message: `client ${remote} rejected: ${max} clients already connected`,
      });
      return protocol.refusal?.(refusalText('max_clients', max)) ?? false;
    }
    if (access.gate.hostFull(access.gate.hostOf(socket.remoteAddress))) {
      const max = access.gate.current.maxClientsPerHost;
      access.refused(socket, 'max_clients_per_host', protocol.name, busName);
      this.options.emit('client_rejected', {
        bus: busName,
        remote,
        reason: 'max_clients_per_host',
        message: `client ${remote} rejected: its host already has ${max} clients`,
      });
      return protocol.refusal?.(refusalText('max_clients_per_host', max)) ?? false;
    }
    return true;
  }
}

/** What a refused client is told, in its protocol's error form (socketcand's `< error … >`). */
export function refusalText(reason: 'max_clients' | 'max_clients_per_host', limit: number): string {
  return reason === 'max_clients'
    ? `refused: the server already has ${limit} clients (--max-clients)`
    : `refused: this host already has ${limit} clients (--max-clients-per-host)`;
}
