// The contract between a session and whoever owns the sessions (server/sessions.ts): what a
// session asks of its host, and what it is built from.
import type { SendResult } from '../backends/types.js';
import type { CanFrame } from '../core/frame.js';
import type { BusInfo, CloseReason, JoinOptions, WireProtocol } from '../protocols/types.js';
import type { TxPolicy, TxRefusal } from '../guard/tx-guard.js';
import type { Logger } from '../system/logger.js';
import type { FlushScheduler } from './flush-scheduler.js';
import type { Session } from './session.js';
import type { SessionSocket } from './session-socket.js';

/** What a session needs from whoever owns the sessions (server/sessions.ts). */
export interface SessionHost {
  readonly buses: readonly BusInfo[];
  forwardErrors(): boolean;
  /** The flush scheduler of bus `bus` (one timer for all the sessions of a bus). */
  scheduler(bus: number): FlushScheduler;
  join(s: Session, bus: number, options?: JoinOptions): void;
  leave(s: Session, bus: number): void;
  send(s: Session, bus: number, frame: CanFrame): SendResult;
  /** The session's TX guard refused a frame (`first`: the first refusal of this kind). */
  txRefused(s: Session, bus: number, frame: CanFrame, reason: TxRefusal, first: boolean): SendResult;
  /** A bus frame the session's protocol withheld from its client (SessionPeer.withheld). */
  withheld(s: Session, bus: number, reason: string): void;
  /** Frames dropped for this session because they waited longer than --client-max-lag. */
  staleDropped(s: Session, count: number): void;
  /** The hub policy now (kick closes a client that falls behind by more than the lag). */
  hubPolicy(): 'drop' | 'kick';
  /** The hub of bus `bus` gave up on the session: its queue was full (policy kick). */
  slowKicked(s: Session, bus: number): void;
  /** The session is being closed for falling behind by more than --client-max-lag (policy kick). */
  lagKicked(s: Session, behindMs: number): void;
  /**
   * The negotiation succeeded: count, log, announce, and null. Refused (a limit was reached
   * meanwhile): why, in words for the client; the session then closes.
   */
  ready(s: Session): string | null;
  negotiationFailed(s: Session, reason: string, received: Uint8Array): void;
  malformedInput(s: Session, code: string, detail: string, bytes: Uint8Array | undefined): void;
  /** A datagram peer's sequence numbers showed `lost` skipped and `misordered` late datagrams. */
  sequence(s: Session, lost: number, misordered: number): void;
  closed(s: Session, reason: CloseReason): void;
}

export interface SessionOptions {
  id: number;
  socket: SessionSocket;
  /** `in`: the peer connected to us (default); `out`: we dialled it (the protocol's client role). */
  direction?: 'in' | 'out';
  remote: string;
  protocol: WireProtocol;
  listenerBus: number | null;
  capacity: number;
  batchSize: number;
  /** ms; 0 = write at the end of the current turn of the event loop */
  flushInterval: number;
  handshakeTimeout: number;
  /** ms of silence from the client before closing it; 0 = never */
  readTimeout: number;
  /** Monotonic ms, for timeouts. */
  now: () => number;
  /** Wall-clock ms since the epoch, for connectedAt. */
  wallClock: () => number;
  log: Logger;
  host: SessionHost;
  /** The peer's address as the socket reports it (for the allow-lists on reload). */
  address: string | undefined;
  txPolicy: TxPolicy;
  /** --client-max-lag, ms. */
  maxLagMs: number;
}
