// One UDP socket of a datagram protocol (one per bus, port + i) and its peers. Each peer is a
// session like any TCP client, through a DatagramPeerSocket: configured peers are sessions from
// the start (frames go to them before they say anything); an unknown sender becomes a learned
// peer on its first datagram if the admit callback lets it (--allow, client slots), and is
// forgotten after a minute of silence. One datagram = one receive() of the peer's protocol.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import type { ListenAddress } from '../config/options.js';
import type { Logger } from '../system/logger.js';
import type { SessionSocket } from './session-socket.js';
import { ListenError } from './tcp-server.js';

/** A learned peer silent this long is forgotten (its session closes with read_timeout). */
export const LEARNED_PEER_IDLE_MS = 60_000;

/** A UDP peer as its session sees it: a socket whose writes are datagrams to one address. */
export class DatagramPeerSocket extends EventEmitter implements SessionSocket {
  destroyed = false;
  closed = false;
  lastHeard = 0;

  constructor(
    private readonly udp: dgram.Socket,
    readonly address: string,
    readonly port: number,
    readonly learned: boolean,
  ) {
    super();
  }

  write(bytes: Uint8Array): boolean {
    if (this.destroyed) return false;
    // A send error (no route, the peer's port closed: ICMP) loses this datagram only and comes
    // as the socket's 'error' (logged at debug); UDP peers come and go, so it never closes the session.
    this.udp.send(bytes, this.port, this.address);
    return true;
  }

  get writableLength(): number {
    try {
      return this.udp.getSendQueueSize();
    } catch {
      return 0;
    }
  }

  /** A datagram from this peer. */
  deliver(datagram: Buffer, now: number): void {
    this.lastHeard = now;
    this.emit('data', datagram);
  }

  end(): void {
    this.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => {
      this.closed = true;
      this.emit('close');
    });
  }
}

export interface UdpEndpointOptions {
  protocol: string;
  busName: string;
  address: ListenAddress;
  /** Configured peers of this bus (their ports already moved by the bus index). */
  peers: readonly ListenAddress[];
  log: Logger;
  now: () => number;
  /** An unknown sender: whether it may become a learned peer (counts and logs a refusal). */
  admit(address: string, remote: string): boolean;
  /** Makes and starts the session of a new peer. */
  open(socket: DatagramPeerSocket, remote: string): void;
  /** A datagram that made no peer (refused sender): counted by the caller. */
  onRefused?(): void;
}

const plain = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : a);
export const formatPeer = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

export class UdpEndpoint {
  private udp: dgram.Socket | null = null;
  private readonly peers = new Map<string, DatagramPeerSocket>();
  private sweep: NodeJS.Timeout | null = null;
  private dualStack = false;
  bound: { address: string; port: number } | null = null;

  constructor(private readonly options: UdpEndpointOptions) {}

  async start(): Promise<{ address: string; port: number }> {
    const { host, port } = this.options.address;
    const v6 = host === '' || host.includes(':');
    this.dualStack = host === '' || host === '::';
    const udp = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${host === '' ? '*' : host}:${port}`;
        reject(
          new ListenError(
            err.code === 'EADDRINUSE' ? 'listen_in_use' : 'listen_failed',
            `cannot listen on UDP ${where}: ${err.message}`,
            `choose another UDP port (see \`ss -lunp 'sport = :${port}'\`)`,
            err,
          ),
        );
      });
      udp.bind({ address: host === '' ? '::' : host, port, exclusive: true }, () => resolve());
    });
    udp.removeAllListeners('error');
    // After binding, errors are per-datagram (ICMP unreachable on Linux): the socket stays.
    udp.on('error', (err) => this.options.log.debug('udp_error', { protocol: this.options.protocol, error: err.message }));
    udp.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.udp = udp;
    const a = udp.address();
    this.bound = { address: a.address, port: a.port };
    for (const p of this.options.peers) {
      const ip = await resolve(p.host);
      this.addPeer(ip, p.port, false);
    }
    this.sweep = setInterval(() => this.forgetSilent(), LEARNED_PEER_IDLE_MS / 4);
    this.sweep.unref();
    return this.bound;
  }

  async stop(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
    const udp = this.udp;
    this.udp = null;
    // Sessions flush on shutdown before this runs (the daemon closes sessions first).
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  private key(address: string, port: number): string {
    return `${plain(address)}|${port}`;
  }

  private addPeer(address: string, port: number, learned: boolean): DatagramPeerSocket {
    const udp = this.udp as dgram.Socket;
    const ip = plain(address);
    // A dual-stack socket reaches IPv4 peers through their mapped address.
    const sendTo = this.dualStack && !ip.includes(':') ? `::ffff:${ip}` : ip;
    const sock = new DatagramPeerSocket(udp, sendTo, port, learned);
    sock.lastHeard = this.options.now();
    const key = this.key(ip, port);
    this.peers.set(key, sock);
    sock.once('close', () => {
      if (this.peers.get(key) === sock) this.peers.delete(key);
    });
    this.options.open(sock, formatPeer(ip, port));
    return sock;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const now = this.options.now();
    let peer = this.peers.get(this.key(rinfo.address, rinfo.port));
    if (!peer) {
      const ip = plain(rinfo.address);
      if (!this.options.admit(ip, formatPeer(ip, rinfo.port))) {
        this.options.onRefused?.();
        return;
      }
      peer = this.addPeer(ip, rinfo.port, true);
      if (peer.destroyed) return;
    }
    peer.deliver(msg, now);
  }

  private forgetSilent(): void {
    const now = this.options.now();
    for (const p of this.peers.values()) if (p.learned && now - p.lastHeard >= LEARNED_PEER_IDLE_MS) p.emit('idle');
  }
}

async function resolve(host: string): Promise<string> {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return host;
  return (await dns.lookup(host)).address;
}
