// The sessions that do not come through a TCP listener: the peers of each datagram protocol's
// UDP socket (udp-endpoint.ts) and the servers the bridge dials (dialer.ts), one of each per
// protocol and bus. They become sessions through the same door as accepted connections (the
// host's `open`), so counting, access, TX guards and close are the same; this file only makes
// the sockets and says which sessions they are.
import type net from 'node:net';
import type { ListenAddress } from '../config/options.js';
import type { WireProtocol } from '../protocols/types.js';
import type { Logger } from '../system/logger.js';
import { Dialer } from './dialer.js';
import { busAddress, type ListenerInfo } from './listener-set.js';
import type { Session } from './session.js';
import type { SessionSocket } from './session-socket.js';
import { remoteOf } from './tcp-server.js';
import { UdpEndpoint } from './udp-endpoint.js';
import type { OutboundSnapshot } from '../control/protocol.js';

/** A protocol the daemon runs: where it listens (TCP, or UDP for a datagram protocol), its configured datagram peers, the server it dials. */
export interface EnabledProtocol {
  protocol: WireProtocol;
  /** Base listen address (bus i: port + i), null = no listener. */
  address: ListenAddress | null;
  /** Datagram protocols: remote peers sent to from the start (bus i: port + i). */
  peers?: readonly ListenAddress[];
  /** A server to dial out to (bus i: port + i); null = none. */
  connect?: ListenAddress | null;
}

export interface SessionMeta {
  remote: string;
  address: string | undefined;
  protocol: WireProtocol;
  bus: number | null;
  scope: string;
  direction: 'in' | 'out';
}

/** What the owner of the sessions (sessions.ts) lends. */
export interface RemoteSessionsHost {
  readonly busNames: readonly string[];
  readonly log: Logger;
  now(): number;
  readonly keepAliveMs: number;
  /** Whether an unknown UDP sender may become a peer (--allow, a free client slot); counts and logs a refusal. */
  admit(address: string, remote: string, protocol: WireProtocol, bus: number, scope: string): boolean;
  /** A datagram from a sender that became no peer. */
  refusedDatagram(protocol: string): void;
  open(socket: SessionSocket, meta: SessionMeta): Session;
}

/** One dial-out target's state (status, top, metrics): the snapshot's shape. */
export type OutboundState = OutboundSnapshot;

export class RemoteSessions {
  private readonly endpoints: Array<{ protocol: string; bus: number; endpoint: UdpEndpoint }> = [];
  private readonly dialers: Array<{ protocol: string; bus: number; dialer: Dialer }> = [];
  /** The names of the datagram protocols served. */
  readonly datagramProtocols = new Set<string>();

  constructor(
    private readonly host: RemoteSessionsHost,
    protocols: readonly EnabledProtocol[],
  ) {
    for (const p of protocols) {
      if (p.protocol.datagram) this.datagramProtocols.add(p.protocol.name);
      host.busNames.forEach((_name, bus) => {
        if (p.address && p.protocol.datagram) this.endpoints.push({ protocol: p.protocol.name, bus, endpoint: this.udpEndpoint(p, bus) });
        if (p.connect && p.protocol.dial)
          this.dialers.push({ protocol: p.protocol.name, bus, dialer: this.dialer(p.protocol, bus, busAddress(p.connect, bus)) });
      });
    }
  }

  get dialing(): boolean {
    return this.dialers.length > 0;
  }

  /** Binds the UDP sockets (throws a ListenError), then starts dialling. */
  async start(): Promise<void> {
    for (const e of this.endpoints) {
      const bound = await e.endpoint.start();
      this.host.log.info('udp_listen', { addr: formatBound(bound), bus: this.host.busNames[e.bus], protocol: e.protocol });
    }
    for (const d of this.dialers) d.dialer.start();
  }

  /** Stops redialling (the sessions themselves close with the others). */
  stopDialing(): void {
    for (const d of this.dialers) d.dialer.stop();
  }

  /** Closes the UDP sockets: last, after the peers' sessions flushed through them. */
  async stopEndpoints(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.endpoint.stop()));
  }

  listenerInfo(): ListenerInfo[] {
    return this.endpoints.flatMap(({ protocol, bus, endpoint }): ListenerInfo[] =>
      endpoint.bound
        ? [{ protocol, bus, address: formatBound(endpoint.bound), host: endpoint.bound.address, port: endpoint.bound.port, mdns: null, transport: 'udp' }]
        : [],
    );
  }

  outbound(): OutboundState[] {
    return this.dialers.map(({ protocol, bus, dialer }) => ({
      protocol,
      bus: this.host.busNames[bus],
      target: dialer.target,
      state: dialer.state,
      since: dialer.since,
      connects: dialer.connects,
      failures: dialer.failures,
      lastError: dialer.lastError,
    }));
  }

  private udpEndpoint(p: EnabledProtocol, bus: number): UdpEndpoint {
    const { protocol } = p;
    const scope = `bus:${bus}`;
    return new UdpEndpoint({
      protocol: protocol.name,
      busName: this.host.busNames[bus],
      address: busAddress(p.address as ListenAddress, bus),
      peers: (p.peers ?? []).map((a) => busAddress(a, bus)),
      log: this.host.log,
      now: () => this.host.now(),
      admit: (address, remote) => this.host.admit(address, remote, protocol, bus, scope),
      onRefused: () => this.host.refusedDatagram(protocol.name),
      open: (socket, remote) => {
        const session = this.host.open(socket, { remote, address: socket.address, protocol, bus, scope, direction: 'in' });
        socket.once('idle', () => session.close('read_timeout'));
      },
    });
  }

  private dialer(protocol: WireProtocol, bus: number, target: ListenAddress): Dialer {
    return new Dialer({
      protocol: protocol.name,
      busName: this.host.busNames[bus],
      target,
      keepAliveMs: this.host.keepAliveMs,
      log: this.host.log,
      open: (socket: net.Socket) => {
        const session = this.host.open(socket, {
          remote: remoteOf(socket),
          address: socket.remoteAddress,
          protocol,
          bus,
          scope: `bus:${bus}`,
          direction: 'out',
        });
        return { ended: session.whenClosed().then(() => session.isHandshaken) };
      },
    });
  }
}

function formatBound(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
