// What a session needs of its connection: the part of net.Socket it uses. A TCP connection (accepted or
// dialled) is one as it is; a UDP peer is one through DatagramPeerSocket (udp-endpoint.ts), so
// every session, whatever its transport, keeps one write path, one ring and one set of timers.
import type { EventEmitter } from 'node:events';

export interface SessionSocket extends EventEmitter {
  write(bytes: Uint8Array): boolean;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly closed: boolean;
  /** Only TCP has them (the lag sampler reads the kernel's TCP queues by them). */
  readonly localPort?: number;
  readonly remotePort?: number;
  end(): unknown;
  destroy(): unknown;
}
