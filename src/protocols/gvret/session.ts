// One GVRET client connection: answers commands, decides what the client can parse, and puts
// its TX frames on the bus its `bus` byte names. Everything it does goes through SessionPeer.
import { CAN_RTR_FLAG, type CanFrame } from '../../core/frame.js';
import type { FrameEncoder, JoinOptions, ProtocolSession, SessionPeer } from '../types.js';
import {
  busParamsReply,
  Cmd,
  DEVICE_INFO_REPLY,
  encodeGvretFrame,
  extBusesReply,
  type GvretFdMode,
  KEEPALIVE_REPLY,
  numBusesReply,
  readU32,
  requestedBitrate,
  timeSyncReply,
} from './codec.js';
import { GvretDecoder, type GvretEvent } from './decoder.js';

/**
 * SavvyCAN's connect burst, as decoder events: `E7 E7 F1 0C F1 06 F1 07 F1 01 F1 09`. A
 * session that starts with exactly this is SavvyCAN; one that deviates is not.
 */
const SAVVYCAN_BURST: readonly string[] = ['mode', 'mode', 'cmd:12', 'cmd:6', 'cmd:7', 'cmd:1', 'cmd:9'];

/** Bytes that are neither a mode entry nor a command before the session started: not a GVRET client. */
const HELLO_GARBAGE_LIMIT = 64;
/**
 * Unusable input in a row (bytes skipped between commands, unknown commands, impossible
 * frames) after which the peer is taken for something that does not speak GVRET and closed.
 * A real client adds at most one byte between commands (SavvyCAN's trailer), and any usable
 * message starts the count again.
 */
const JUNK_LIMIT = 256;

export type GvretClientKind = 'unknown' | 'savvycan' | 'wiretap' | 'other';

export interface GvretEncoders {
  /** Classic frames only: FD frames are skipped (null). */
  readonly classic: FrameEncoder;
  /** The listener's configured form (classic, or FD as `F1 14` or WireTAP's DLC code). */
  readonly configured: FrameEncoder;
  readonly fd: GvretFdMode;
}

export class GvretSession implements ProtocolSession {
  private readonly decoder = new GvretDecoder();
  private started = false;
  private binary = false;
  private client: GvretClientKind = 'unknown';
  private burstStep = 0;
  /** What the first bytes were, for the log of a refused connection. */
  private readonly received: number[] = [];
  private replies: Uint8Array[] = [];
  private junk = 0;
  private skippedSoFar = 0;
  /** Frames SavvyCAN's parser cannot take, withheld from this session. */
  readonly withheld = { zeroLength: 0, fd: 0 };
  /** Setting commands accepted and ignored, by command byte. */
  readonly ignored = new Map<number, number>();
  private readonly safeJoin: JoinOptions;

  constructor(
    private readonly peer: SessionPeer,
    private readonly encoders: GvretEncoders,
  ) {
    // Until the client is known not to be SavvyCAN, send only what SavvyCAN's parser survives:
    // it drops a zero-length frame and loses sync on FD. Counted, so nothing vanishes silently.
    this.safeJoin = {
      encoder: encoders.classic,
      filter: (f: CanFrame) => {
        if (f.fd) {
          this.withheld.fd++;
          return false;
        }
        if (f.len === 0 || (f.id & CAN_RTR_FLAG) !== 0) {
          this.withheld.zeroLength++;
          return false;
        }
        return true;
      },
    };
  }

  greeting(): Uint8Array | null {
    return null;
  }

  receive(chunk: Uint8Array): void {
    if (!this.started) for (let i = 0; i < chunk.length && this.received.length < HELLO_GARBAGE_LIMIT; i++) this.received.push(chunk[i]);
    const events = this.decoder.push(chunk);
    for (const e of events) {
      if (!this.started && !this.start()) return;
      this.identify(e);
      this.handle(e);
    }
    if (!this.started && this.decoder.skipped >= HELLO_GARBAGE_LIMIT) {
      this.peer.reject(
        `no GVRET mode entry (E7) or command (F1) in the first ${HELLO_GARBAGE_LIMIT} bytes: this port speaks GVRET (SavvyCAN, WireTAP)`,
        Uint8Array.from(this.received),
      );
      return;
    }
    if (this.started && this.tooMuchJunk(events)) return;
    this.flushReplies();
  }

  /** Counts unusable input; closes the session (malformed) past JUNK_LIMIT. */
  private tooMuchJunk(events: GvretEvent[]): boolean {
    const skipped = this.decoder.skipped - this.skippedSoFar;
    this.skippedSoFar = this.decoder.skipped;
    const bad = events.filter((e) => e.type === 'bad_frame' || e.type === 'unknown').length;
    this.junk = bad < events.length ? 0 : this.junk + skipped + bad;
    if (this.junk < JUNK_LIMIT) return false;
    this.flushReplies();
    this.peer.malformed('gvret_not_gvret', `${this.junk} bytes or messages in a row that are not GVRET: closing (is this client speaking another protocol?)`);
    this.peer.close('malformed');
    return true;
  }

  closed(): void {
    const ignored = Object.fromEntries([...this.ignored].map(([cmd, n]) => [hexCmd(cmd), n]));
    if (this.withheld.zeroLength || this.withheld.fd || this.ignored.size) {
      this.peer.log('info', 'gvret_session_summary', {
        client: this.client,
        withheld_zero_length: this.withheld.zeroLength,
        withheld_fd: this.withheld.fd,
        ignored_commands: ignored,
      });
    }
  }

  /** The client's kind as far as its first commands tell (tests, status). */
  kind(): GvretClientKind {
    return this.client;
  }

  private start(): boolean {
    this.started = true;
    return this.peer.ready();
  }

  /** Compares the session's first events with SavvyCAN's connect burst. */
  private identify(e: GvretEvent): void {
    if (this.client !== 'unknown') return;
    const token = e.type === 'mode' ? 'mode' : e.type === 'command' ? `cmd:${e.cmd}` : e.type;
    if (token === SAVVYCAN_BURST[this.burstStep]) {
      if (++this.burstStep < SAVVYCAN_BURST.length) return;
      this.client = 'savvycan';
    } else {
      // WireTAP's desktop connects with `E7 E7`, then `F1 07` alone.
      const wiretap = this.burstStep === 2 && token === `cmd:${Cmd.GetDeviceInfo}`;
      this.client = wiretap ? 'wiretap' : 'other';
      if (this.binary) this.joinAll(undefined);
    }
    this.peer.log('info', 'gvret_client_identified', {
      client: this.client,
      zero_length_frames: this.client === 'savvycan' ? 'withheld (its parser drops them and eats the next byte)' : 'sent',
      fd_frames: this.client === 'savvycan' ? 'withheld (its F1 14 parser never completes)' : this.encoders.fd,
    });
  }

  private joinAll(options: JoinOptions | undefined): void {
    const join = options ?? { encoder: this.encoders.configured };
    for (const bus of this.peer.buses) this.peer.join(bus.index, join);
  }

  private handle(e: GvretEvent): void {
    const peer = this.peer;
    switch (e.type) {
      case 'mode':
        if (this.binary) return;
        this.binary = true;
        this.joinAll(this.client === 'other' || this.client === 'wiretap' ? undefined : this.safeJoin);
        return;
      case 'command':
        this.command(e.cmd);
        return;
      case 'setting':
        this.setting(e.cmd, e.args);
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

  private command(cmd: number): void {
    const peer = this.peer;
    switch (cmd) {
      case Cmd.Keepalive:
        this.replies.push(KEEPALIVE_REPLY);
        return;
      case Cmd.TimeSync:
        this.replies.push(timeSyncReply(peer.wallClock()));
        return;
      case Cmd.GetCanbusParams:
        this.replies.push(busParamsReply(peer.buses));
        return;
      case Cmd.GetDeviceInfo:
        this.replies.push(DEVICE_INFO_REPLY);
        return;
      case Cmd.GetNumBuses:
        this.replies.push(numBusesReply(peer.buses.length));
        return;
      case Cmd.GetExtBuses:
        this.replies.push(extBusesReply(peer.buses));
        return;
      default:
        // Digital/analog inputs: the bridge has no I/O pins. Never answer F1 03: SavvyCAN's
        // parser does not return to idle after one.
        this.count(cmd, 'the bridge has no digital or analog I/O pins; not answered');
    }
  }

  private setting(cmd: number, args: Uint8Array): void {
    if (cmd === Cmd.SetupCanbus) {
      const [a, b] = [requestedBitrate(readU32(args, 0)), requestedBitrate(readU32(args, 4))];
      this.count(cmd, 'bus settings from clients are ignored: the bridge never changes a bitrate on a client\'s word; set bitrates on the bridge (--bitrate, setup)', {
        requested: `bus0 ${a.bitrate} bit/s ${a.enabled ? 'on' : 'off'}, bus1 ${b.bitrate} bit/s ${b.enabled ? 'on' : 'off'}`,
      });
    } else if (cmd === Cmd.SetExtBuses) {
      this.count(cmd, 'single-wire/LIN settings from clients are ignored: the bridge has none and never changes a bus on a client\'s word');
    } else {
      this.count(cmd, 'output, single-wire and system-type settings are ignored: the bridge has no such hardware');
    }
  }

  /** Counts an ignored command; the first of each kind per session is logged. */
  private count(cmd: number, note: string, fields: Record<string, unknown> = {}): void {
    const n = (this.ignored.get(cmd) ?? 0) + 1;
    this.ignored.set(cmd, n);
    if (n === 1) this.peer.log('info', 'gvret_command_ignored', { command: `F1 ${hexCmd(cmd)}`, note, ...fields });
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
      const join = this.client === 'savvycan' || this.client === 'unknown' ? this.safeJoin : null;
      if (join?.filter && !join.filter(frame)) return;
      const bytes = encodeGvretFrame(frame, bus, join ? 'off' : this.encoders.fd, peer.wallClock());
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

const hexCmd = (cmd: number): string => cmd.toString(16).toUpperCase().padStart(2, '0');
