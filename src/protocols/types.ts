// The contract between the protocol-agnostic server and a wire-protocol plug-in.
//
// The server owns the socket: accept, the per-client ring of encoded bytes, batching through
// the bus flush scheduler, backpressure (drop/kick), timers, counters and close. A plug-in
// owns only what differs between protocols: its hello/negotiation, its stream decoder, its
// frame encoder, which bus(es) a session is attached to (it may attach after the handshake,
// and to more than one), and its own commands. Everything a plug-in can do to the world goes
// through `SessionPeer`, so a plug-in is testable with a fake peer and no socket.
import type { CanFrame } from '../core/frame.js';
import type { LogLevel } from '../core/log-fn.js';
import type { SendResult } from '../backends/types.js';
import type { OptionSpec } from '../config/options.js';

/** One bus the daemon serves, as a protocol sees it. */
export interface BusInfo {
  /** 0-based; per-bus listeners serve `index` at port + index. */
  readonly index: number;
  /** Interface or device name: `can0`, `/dev/ttyUSB0`, `virtual0`. */
  readonly name: string;
  /** Nominal bitrate in bit/s, when known (read it when asked: SocketCAN learns it late). */
  bitrate(): number | null;
  /** Whether the bus carries CAN FD. */
  readonly fd: boolean;
  /**
   * Traffic so far, as an interface's rx/tx counters: frames and payload bytes received from
   * the bus, and sent to it by the bridge (socketcand's `< stat … >`). Absent where unknown.
   */
  readonly rxFrames?: number;
  readonly rxBytes?: number;
  readonly txFrames?: number;
  readonly txBytes?: number;
}

/**
 * Encodes bus frames for one protocol. The hub calls `encode` at most once per bus frame per
 * encoder object that has a subscriber on that bus, lazily (an encoder nobody uses costs
 * nothing), and shares the bytes across every session subscribed with that encoder: the
 * bytes must never be mutated afterwards. Keep encoders as module-level singletons so that
 * sessions share them; a per-session variant (e.g. FD on/off) is a second singleton.
 */
export interface FrameEncoder {
  /** `bus` is the bus index. Returns null when this protocol cannot carry the frame (skipped). */
  encode(frame: CanFrame, bus: number): Uint8Array | null;
}

export interface JoinOptions {
  /** Default: the protocol's `encoder`. */
  encoder?: FrameEncoder;
  /**
   * Per-session filter, run before encoding (socketcand subscriptions, SavvyCAN's withheld
   * zero-length frames). Keep it cheap: it runs per frame per session. Count what it refuses
   * yourself if that is worth showing.
   */
  filter?: (frame: CanFrame) => boolean;
}

/** Why a session ended (the `reason` of client_disconnected logs and events). */
export type CloseReason =
  | 'client_closed'
  | 'handshake_timeout'
  | 'bad_hello'
  | 'malformed'
  | 'read_timeout'
  | 'kicked_slow'
  | 'kicked_by_operator'
  | 'not_allowed'
  /** Closed while negotiating: its host had more connections waiting than its share. */
  | 'pending_evicted'
  | 'shutdown'
  | 'socket_error';

export type { LogLevel };

/** What a protocol session may do. Implemented by the server's session. */
export interface SessionPeer {
  /** Client id shown in `status`/`top` and used as the echo origin. */
  readonly id: number;
  /** `1.2.3.4:5678` or `[::1]:5678`. */
  readonly remote: string;
  /** Every bus the daemon serves, in `--can-if` order. */
  readonly buses: readonly BusInfo[];
  /** For a per-bus listener, the bus it serves; null for a shared listener. */
  readonly listenerBus: number | null;
  /** Monotonic ms. */
  now(): number;
  /** Wall-clock ms since the epoch (fractional). */
  wallClock(): number;
  /** Whether bus error frames are forwarded to clients (`--forward-errors`). */
  forwardErrors(): boolean;

  /**
   * The negotiation succeeded: from now on the session is a client (counted, logged as
   * client_connected, shown in `status`). Until then it is pending and closed by the
   * handshake timeout. Returns false if the server refused it (it is then being closed).
   */
  ready(): boolean;
  /** The negotiation failed (logged with the bytes received, counted); closes the session. */
  reject(reason: string, received: Uint8Array): void;

  /** Subscribes this session to the frames of bus `bus` (idempotent; options replace earlier ones). */
  join(bus: number, options?: JoinOptions): void;
  leave(bus: number): void;
  /** Puts a frame decoded from the client on bus `bus`: filtered, counted, echoed to other sessions once on the bus. */
  send(bus: number, frame: CanFrame): SendResult;

  /**
   * Writes a protocol reply (an ack, a status answer) ahead of the frames still queued for
   * this session, as its own socket write. Bytes already handed to the socket stay ahead of
   * it, but those are always whole frames, so the stream stays in sync.
   */
  reply(bytes: Uint8Array): void;
  /**
   * Holds the frames queued for this session (`true`) or lets them go (`false`). While held,
   * frames wait in the session's queue (the hub's bound and policy apply; the server lets go
   * by itself once the queue is half full) and replies still go out at once, ahead of them.
   * GVRET holds from `E7` until it knows which client it talks to, so a client's first replies
   * are not buried under frames. Bound it in time yourself (a timer that lets go).
   */
  hold(on: boolean): void;
  /**
   * A bus frame this session's filter chose not to send because the client cannot take it
   * (SavvyCAN and zero-length frames): counted for the session (`status`) and per bus
   * (`frames_dropped_total{direction="to_clients",reason="withheld_<reason>"}`), so nothing is
   * withheld silently. Not for frames a client did not ask for (socketcand subscriptions).
   */
  withheld(bus: number, reason: string): void;
  /** Input the protocol could not parse: counted and logged (rate-bounded); does not close. */
  malformed(code: string, detail: string, bytes?: Uint8Array): void;
  /** Ends the session (queued frames are discarded unless shutting down). */
  close(reason: CloseReason): void;
  /** Operational log line with conn_id, remote and protocol added. */
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  /**
   * Datagram protocols: what the peer's sequence numbers say about the path. `lost`: datagrams
   * skipped (negative when a late one shows that a datagram counted lost was only reordered);
   * `misordered`: datagrams that arrived after a later one. Shown per client and in metrics.
   */
  sequence(lost: number, misordered: number): void;
}

/** One connection's protocol state. Created per accepted socket. */
export interface ProtocolSession {
  /** Bytes to send as soon as the connection is accepted (cannelloni hello, `< hi >`), or null. */
  greeting(): Uint8Array | null;
  /**
   * Bytes from the client, split anywhere. May call peer methods synchronously. (A client
   * that sends FIN has gone: the server closes the session, whatever the protocol.)
   */
  receive(chunk: Uint8Array): void;
  /** The session has ended, whatever the reason: stop timers, release resources. */
  closed?(reason: CloseReason): void;
}

export interface MdnsAdvert {
  /** Service type without the leading underscore/`._tcp`, e.g. `can-server`. */
  type: string;
  txt?: Record<string, string>;
}

/** The implementation of a wire protocol, loaded only when its listener is on (`index.ts`). */
export interface WireProtocol {
  /** `cannelloni`, `tcpcan`, `socketcand`, `gvret`: the `protocol` label everywhere. */
  readonly name: string;
  /**
   * `per-bus`: one listener per bus, bus `i` at port + i (cannelloni, tcpcan).
   * `shared`: one listener for every bus; the session picks buses after connecting.
   */
  readonly layout: 'per-bus' | 'shared';
  /** The default encoder used by `join` without options. */
  readonly encoder: FrameEncoder;
  /** Creates the protocol state for one accepted connection. */
  open(peer: SessionPeer): ProtocolSession;
  /** mDNS service this protocol is conventionally advertised as, if any. */
  readonly mdns?: MdnsAdvert;
  /**
   * The protocol's own way to tell a client it was refused (socketcand's `< error … >`), from
   * a short reason in plain words. Without it a refused connection is closed with nothing
   * sent: the server refuses at accept, before any greeting, where it can.
   */
  refusal?(why: string): Uint8Array;
  /**
   * Largest socket write, in bytes, for a peer that cannot reassemble a message split across
   * TCP segments: batches are cut into writes of whole frames that fit (one frame at least).
   * Default: a batch is one write, whatever its size.
   */
  readonly maxWriteBytes?: number;
  /**
   * Present for a datagram protocol (UDP): each `receive` is one whole datagram, the session
   * starts as a client at once (no negotiation), and each write is one datagram of whole
   * frames behind the header this framing writes. The server owns sockets, peers and timers.
   */
  readonly datagram?: DatagramFraming;
  /**
   * The client role, for an outbound session (the bridge dials a remote server): the protocol
   * state for a connection we opened. Without it the protocol cannot dial out.
   */
  dial?(peer: SessionPeer): ProtocolSession;
}

/** How a datagram protocol packs frames (already encoded by its encoder) into one datagram. */
export interface DatagramFraming {
  /** Header bytes before the frames. */
  readonly headerBytes: number;
  /** Largest datagram written, header included (the payload of one link MTU). */
  readonly maxDatagramBytes: number;
  /** Writes the header of a datagram carrying `frames` frames with sequence number `seq` (the session counts them from 0). */
  writeHeader(out: Uint8Array, frames: number, seq: number): void;
}

// ---------------------------------------------------------------- the plug-in contract
//
// Everything the rest of the bridge knows about a protocol comes from its plug-in, declared in
// `src/protocols/<name>/plugin.ts` (pure data and lazy imports: provisioning reads it through
// the options table) and listed once in registry.ts. config/ composes the option groups into
// the options table and finds port clashes from the listeners the options declare, daemon/
// starts the discovery services, provisioning/ asks the setup questions and checks the ports.

/** A group of options-table entries (a protocol's, or a service's). */
export type OptionGroup = Readonly<Record<string, OptionSpec<any>>>;

/** The parsed values of a group, as they sit in the Config. */
export type GroupValues<G extends OptionGroup> = { readonly [K in keyof G]: G[K] extends OptionSpec<infer T> ? T : never };

/** What a discovery service gets: this protocol's bound listeners and the daemon's facts. */
export interface DiscoveryContext {
  /** This protocol's bound listeners (empty when its listen option is off). */
  readonly listeners: ReadonlyArray<{ readonly host: string; readonly port: number; readonly bus: number | null }>;
  /** Bus names, in bus order. */
  readonly buses: readonly string[];
  readonly hostname: string;
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

/** A broadcast or beacon by which clients find this protocol's listener. */
export interface DiscoveryService {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DiscoveryDecl<G extends OptionGroup> {
  /** Service name in logs (`gvret-discovery`). */
  readonly name: string;
  /** The bool option of this group that turns it on (off by default: broadcast leaves the machine). */
  readonly option: keyof G & string;
  /** Creates the service; null when there is nothing to announce (it logs why). */
  create(context: DiscoveryContext): Promise<DiscoveryService | null>;
}

/** A problem with a combination of this group's values (refused at start, as every conflict). */
export interface GroupProblem {
  readonly option: string;
  readonly problem: string;
  readonly fix: string;
}

/** How `setup` asks about a protocol. */
export interface SetupQuestion {
  /**
   * `address`: always on, asked as an address (the bus port every install has).
   * `offer`: asked yes/no; yes = `address`, moved up to the first free ports.
   */
  readonly ask: 'address' | 'offer';
  /** The wizard's question; `{port}` is replaced by the port a yes gives. */
  readonly question: string;
  /** The address of a fresh install (`ask: address`) or of a yes (`offer`). */
  readonly address: string;
  /** `offer`: whether a config without the key is offered with yes (a fresh install's default). */
  readonly offeredOn?: boolean;
  /** `offer`: write the key also when off (`''`), so a re-run keeps a "no". */
  readonly keepOff?: boolean;
  /** The line setup prints at the end: where clients connect (`where`: host:port, or ports). */
  connectLine(where: string): string;
  /** doctor's fix when nothing accepts connections on the port. */
  readonly doctorFix: string;
  /** A port below 1024 is this protocol's convention: setup grants the service the bind privilege for it. */
  readonly privileged?: string;
  /**
   * setup asks about its discovery broadcast with this question when the listener is on,
   * default no (a broadcast reaches every machine on the LAN), and never turns it on unasked.
   */
  readonly discoveryQuestion?: string;
}

/** One wire protocol, as the registry lists it. */
export interface ProtocolPlugin<G extends OptionGroup = OptionGroup> {
  /** `cannelloni`, `tcpcan`, …: the `protocol` label everywhere. */
  readonly name: string;
  /** Its entries of the options table (flags, env, config keys, help, README rows). */
  readonly options: G;
  /** The option of `options` that holds its listen address (null = off); its spec declares `listener`. */
  readonly listen: keyof G & string;
  /**
   * Datagram protocols: the option of `options` listing the configured remote peers
   * (`HOST:PORT`, bus i at port + i), to which frames are sent without waiting to hear from them.
   */
  readonly peers?: keyof G & string;
  /**
   * The option of `options` holding a server to dial out to (`HOST:PORT`, bus i at port + i;
   * null = off): an outbound session per bus, reconnected with backoff. Needs `dial`.
   */
  readonly connect?: keyof G & string;
  /** Loads the implementation with this group's values (when its listener or dial-out is on). */
  load(values: GroupValues<G>): Promise<WireProtocol>;
  /** Combinations of its own values that cannot work. */
  check?(values: GroupValues<G>): GroupProblem[];
  readonly discovery?: DiscoveryDecl<G>;
  readonly setup?: SetupQuestion;
  /** setup asks for the server `connect` dials (host:port; empty = none) with this question. */
  readonly dialQuestion?: string;
}

/** Declares a plug-in with its group's types checked (`definePlugin({ ... })`). */
export const definePlugin = <G extends OptionGroup>(plugin: ProtocolPlugin<G>): ProtocolPlugin<G> => plugin;
