// One GVRET client connection: answers commands, decides what the client can parse, and puts
// its TX frames on the bus its `bus` byte names. Everything it does goes through SessionPeer.
import { CAN_RTR_FLAG, type CanFrame } from '../../core/frame.js';
import type { FrameEncoder, JoinOptions, ProtocolSession, SessionPeer } from '../types.js';
import { Cmd, encodeGvretFrame, type GvretFdMode } from './codec.js';
import { GvretCommands, hexCmd } from './commands.js';
import { ClientKindMatcher, type GvretClientKind } from './client-kind.js';
import { GvretDecoder, type GvretEvent } from './decoder.js';

/** Bytes that are neither a mode entry nor a command before the session started: not a GVRET client. */
const HELLO_GARBAGE_LIMIT = 64;
/**
 * Unusable input in a row (bytes skipped between commands, unknown commands, impossible
 * frames), counted in stream order, after which the peer is taken for something that does not
 * speak GVRET and closed. A real client adds at most one byte between commands (SavvyCAN's
 * trailer), and a usable message starts the count again, but only for what comes after it.
 */
const JUNK_LIMIT = 256;

export type { GvretClientKind };

export interface GvretEncoders {
  /** Classic frames only: FD frames are skipped (null). */
  readonly classic: FrameEncoder;
  /** The listener's configured form (classic, or FD as `F1 14` or WireTAP's DLC code). */
  readonly configured: FrameEncoder;
  readonly fd: GvretFdMode;
}

/** Timers of the identification window (injected by tests). */
export interface GvretTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface GvretSessionDeps {
  readonly encoders: GvretEncoders;
  readonly timers: GvretTimers;
  /** The identification window after the first `E7` (IDENTIFY_MS). */
  readonly identifyMs: number;
}

/** What a session withholds from a client that cannot take it, by reason (also the metric's). */
interface Withheld {
  zero_length: number;
  rtr: number;
  fd: number;
}

export class GvretSession implements ProtocolSession {
  private readonly decoder = new GvretDecoder();
  private started = false;
  private binary = false;
  private readonly matcher = new ClientKindMatcher();
  /** What the first bytes were, for the log of a refused connection. */
  private readonly received: number[] = [];
  private replies: Uint8Array[] = [];
  private junk = 0;
  /** Frames withheld from this session because its client cannot take them. */
  readonly withheld: Withheld = { zero_length: 0, rtr: 0, fd: 0 };
  private readonly commands: GvretCommands;
  /** Frames are held (SessionPeer.hold) from `E7` until the client's kind is known. */
  private holding = false;
  /** The kind was decided while reading: let the frames go once the replies are out. */
  private releaseAfterReplies = false;
  private identifyTimer: unknown = null;
  private over = false;

  constructor(
    private readonly peer: SessionPeer,
    private readonly deps: GvretSessionDeps,
  ) {
    this.commands = new GvretCommands(peer);
  }

  /** Setting commands accepted and ignored, by command byte. */
  get ignored(): ReadonlyMap<number, number> {
    return this.commands.ignored;
  }

  greeting(): Uint8Array | null {
    return null;
  }

  receive(chunk: Uint8Array): void {
    if (!this.started) for (let i = 0; i < chunk.length && this.received.length < HELLO_GARBAGE_LIMIT; i++) this.received.push(chunk[i]);
    const events = this.decoder.push(chunk);
    for (const e of events) {
      if (!this.started && !this.start()) return;
      const kind = this.matcher.feed(e);
      if (kind !== null) this.decided(kind, 'its first commands');
      this.handle(e);
    }
    if (!this.started && this.decoder.skipped >= HELLO_GARBAGE_LIMIT) {
      this.peer.reject(
        `no GVRET mode entry (E7) or command (F1) in the first ${HELLO_GARBAGE_LIMIT} bytes: this port speaks GVRET (SavvyCAN, WireTAP)`,
        Uint8Array.from(this.received),
      );
      return;
    }
    if (this.started && this.tooMuchJunk(events, this.decoder.skippedBefore)) return;
    this.flushReplies();
    if (this.releaseAfterReplies) {
      this.releaseAfterReplies = false;
      this.release();
    }
  }

  /** Counts unusable input in stream order; closes the session (malformed) once a run reaches JUNK_LIMIT. */
  private tooMuchJunk(events: GvretEvent[], skippedBefore: readonly number[]): boolean {
    let worst = this.junk;
    for (let i = 0; i < events.length; i++) {
      this.junk += skippedBefore[i] ?? 0;
      worst = Math.max(worst, this.junk);
      const type = events[i].type;
      if (type === 'bad_frame' || type === 'unknown') worst = Math.max(worst, ++this.junk);
      else this.junk = 0;
    }
    this.junk += this.decoder.skippedAfter;
    worst = Math.max(worst, this.junk);
    if (worst < JUNK_LIMIT) return false;
    this.flushReplies();
    this.peer.malformed('gvret_not_gvret', `${worst} bytes or messages in a row that are not GVRET: closing (is this client speaking another protocol?)`);
    this.peer.close('malformed');
    return true;
  }

  closed(): void {
    this.over = true;
    if (this.identifyTimer !== null) this.deps.timers.clearTimeout(this.identifyTimer);
    this.identifyTimer = null;
    const w = this.withheld;
    if (w.zero_length || w.rtr || w.fd || this.ignored.size) {
      this.peer.log('info', 'gvret_session_summary', {
        client: this.matcher.kind,
        withheld_zero_length: w.zero_length,
        withheld_rtr: w.rtr,
        withheld_fd: w.fd,
        ignored_commands: this.commands.summary(),
      });
    }
  }

  /** The client's kind as far as its first commands tell (tests, status). */
  kind(): GvretClientKind {
    return this.matcher.kind;
  }

  private start(): boolean {
    this.started = true;
    return this.peer.ready();
  }

  /** The client's kind is known: log it, and give it the frames it can take. */
  private decided(kind: GvretClientKind, by: string): void {
    if (this.identifyTimer !== null) this.deps.timers.clearTimeout(this.identifyTimer);
    this.identifyTimer = null;
    const savvy = kind === 'savvycan';
    this.peer.log('info', 'gvret_client_identified', {
      client: kind,
      by,
      zero_length_frames: savvy ? 'withheld, counted (its parser drops them and eats the next byte)' : 'sent',
      fd_frames: savvy
        ? 'withheld, counted (its F1 14 parser never completes)'
        : this.deps.encoders.fd === 'off'
          ? 'withheld, counted (--gvret-fd off)'
          : this.deps.encoders.fd,
    });
    if (!this.binary) return;
    this.joinAll();
    // Replies of this read go out first (receive() lets the frames go after them).
    if (this.holding) this.releaseAfterReplies = true;
  }

  /** Nothing showed the client's kind within the window after `E7`: it is not SavvyCAN. */
  private identifyTimeout(): void {
    this.identifyTimer = null;
    if (this.over) return;
    if (this.matcher.kind === 'unknown') this.decided(this.matcher.timeout(), `no SavvyCAN connect burst within ${this.deps.identifyMs} ms of E7`);
    this.releaseAfterReplies = false;
    this.release();
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.peer.hold(false);
  }

  /** Joins every bus with what this client can take (SavvyCAN's limits until it is known not to be SavvyCAN). */
  private joinAll(): void {
    for (const bus of this.peer.buses) this.peer.join(bus.index, this.joinOptions(bus.index, bus.fd));
  }

  private joinOptions(bus: number, fdBus: boolean): JoinOptions {
    const kind = this.matcher.kind;
    if (kind === 'savvycan' || kind === 'unknown') return { encoder: this.deps.encoders.classic, filter: (f) => this.savvycanCanTake(f, bus) };
    if (this.deps.encoders.fd === 'off' && fdBus) return { encoder: this.deps.encoders.configured, filter: (f) => !f.fd || this.withhold(bus, 'fd') };
    return { encoder: this.deps.encoders.configured };
  }

  /** SavvyCAN's parser drops a zero-length frame (and the next byte) and never finishes an FD one. */
  private savvycanCanTake(f: CanFrame, bus: number): boolean {
    if (f.fd) return this.withhold(bus, 'fd');
    if ((f.id & CAN_RTR_FLAG) !== 0) return this.withhold(bus, 'rtr');
    if (f.len === 0) return this.withhold(bus, 'zero_length');
    return true;
  }

  /** Counts a withheld frame here and at the server (status, metrics); returns false. */
  private withhold(bus: number, reason: keyof Withheld): false {
    this.withheld[reason]++;
    this.peer.withheld(bus, reason);
    return false;
  }

  private handle(e: GvretEvent): void {
    const peer = this.peer;
    switch (e.type) {
      case 'mode':
        if (this.binary) return;
        this.binary = true;
        this.joinAll();
        if (this.matcher.kind === 'unknown') {
          // Frames wait until the client's first commands are answered (WireTAP's probe reads
          // only the first 128 bytes for its F1 0C reply), at most the identification window.
          this.holding = true;
          this.peer.hold(true);
          this.identifyTimer = this.deps.timers.setTimeout(() => this.identifyTimeout(), this.deps.identifyMs);
        }
        return;
      case 'command': {
        const reply = this.commands.reply(e.cmd);
        if (reply) this.replies.push(reply);
        return;
      }
      case 'setting':
        this.commands.setting(e.cmd, e.args);
        return;
      case 'frame':
        this.frame(e.cmd, e.bus, e.frame);
        return;
      case 'bad_frame':
        peer.malformed('gvret_bad_frame', e.reason, e.bytes);
        return;
      case 'unknown':
        peer.malformed('gvret_unknown_command', `F1 ${hexCmd(e.cmd)} is not a GVRET command a client sends`);
        return;
    }
  }

  private frame(cmd: number, bus: number, frame: CanFrame): void {
    const peer = this.peer;
    const target = peer.buses[bus];
    if (target === undefined) {
      peer.malformed('gvret_unknown_bus', `bus ${bus} does not exist: this bridge serves buses 0..${peer.buses.length - 1}`);
      return;
    }
    if (frame.fd && !target.fd) {
      peer.malformed('gvret_fd_on_classic_bus', `a ${frame.len}-byte CAN FD frame for bus ${bus} (${target.name}), which is classic CAN`);
      return;
    }
    if (cmd === Cmd.EchoCanFrame) {
      // Loopback test: the frame comes back to this client as if received, and never reaches the bus.
      const savvy = this.matcher.kind === 'savvycan' || this.matcher.kind === 'unknown';
      if (savvy && !this.savvycanCanTake(frame, bus)) return;
      const bytes = encodeGvretFrame(frame, bus, savvy ? 'off' : this.deps.encoders.fd, peer.wallClock());
      if (bytes) this.replies.push(bytes);
      return;
    }
    peer.send(bus, frame);
  }

  private flushReplies(): void {
    if (this.replies.length === 0) return;
    const parts = this.replies;
    this.replies = [];
    if (parts.length === 1) {
      this.peer.reply(parts[0]);
      return;
    }
    // One write for a burst's replies: SavvyCAN's connect burst gets its five answers at once.
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    this.peer.reply(out);
  }
}
