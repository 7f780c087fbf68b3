// GVRET binary protocol: the incremental decoder for what a client sends. Pure; input may be
// split anywhere. A byte-at-a-time state machine like the firmware's, with these choices:
// - `E7` switches to binary mode only in idle, so an `E7 E7` inside a frame's data is data
//   (WireTAP's server scans the whole stream for `E7 E7` and loses such frames);
// - bytes other than `F1`/`E7` in idle are skipped and counted: that absorbs the trailing `00`
//   SavvyCAN puts after a TX frame and a checksum byte some clients add after a command;
// - a TX frame (`F1 00 id bus len data`) is emitted as soon as its last data byte is in, with
//   or without a trailer (WireTAP sends none, and waiting for the next byte would delay it);
// - `F1 F1` restarts the command: no command is F1, so the first was a stray trailer byte.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_MAX_DLEN, CAN_SFF_MASK, type CanFrame, isValidFdLength } from '../../core/frame.js';
import { Cmd, GVRET_BINARY_MODE, GVRET_SYNC, readU32 } from './codec.js';

export type GvretEvent =
  /** `E7` in idle: binary mode (the first one starts the session's frame stream). */
  | { type: 'mode' }
  /** A command without arguments (time sync, bus params, device info, keepalive, ...). */
  | { type: 'command'; cmd: number }
  /** A command with arguments the bridge accepts and ignores (bitrates, outputs, modes). */
  | { type: 'setting'; cmd: number; args: Uint8Array }
  /** `F1 00` (send on the bus) or `F1 0B` (echo back to this client), complete. */
  | { type: 'frame'; cmd: number; bus: number; frame: CanFrame }
  /** A TX frame that cannot exist on a bus: consumed whole, so the stream stays in sync. */
  | { type: 'bad_frame'; reason: string; bytes: Uint8Array }
  /** A command byte no GVRET firmware defines for this direction. */
  | { type: 'unknown'; cmd: number };

/** Argument bytes of the setting commands. SavvyCAN adds a `00` after 05 and 0E (skipped in idle). */
const SETTING_ARGS: ReadonlyMap<number, number> = new Map([
  [Cmd.SetDigitalOutputs, 1],
  [Cmd.SetupCanbus, 8],
  [Cmd.SetSingleWire, 1],
  [Cmd.SetSystemType, 1],
  [Cmd.SetExtBuses, 12],
]);

const NO_ARG_COMMANDS: ReadonlySet<number> = new Set<number>([
  Cmd.TimeSync,
  Cmd.DigitalInputs,
  Cmd.AnalogInputs,
  Cmd.GetCanbusParams,
  Cmd.GetDeviceInfo,
  Cmd.Keepalive,
  Cmd.GetNumBuses,
  Cmd.GetExtBuses,
]);

// biome-ignore lint/suspicious/noConstEnum: inlined on the byte-per-call decode path; file-local, so isolated transpilers inline it too
const enum State {
  Idle,
  Command,
  Args,
  FrameHeader,
  FrameData,
}

/** id(4) bus(1) len(1) after `F1 00`. */
const FRAME_HEADER = 6;

export class GvretDecoder {
  private state = State.Idle;
  private cmd = 0;
  /** Header and data of the message being read (the largest is an FD frame). */
  private readonly buf = new Uint8Array(FRAME_HEADER + 64);
  private have = 0;
  private need = 0;
  /** Bytes skipped in idle (neither `F1` nor `E7`). */
  skipped = 0;
  /**
   * For the events of the last push(), in order: the bytes skipped just before each one (since
   * the previous event, or the start of the chunk). With `skippedAfter` (after the last event)
   * a caller counts unusable input in stream order, not per read.
   */
  readonly skippedBefore: number[] = [];
  skippedAfter = 0;

  /** Bytes of an incomplete message held. */
  get pending(): number {
    return this.state === State.Idle ? 0 : this.state === State.Command ? 1 : 2 + this.have;
  }

  /** Decodes what `chunk` completes, in stream order. */
  push(chunk: Uint8Array): GvretEvent[] {
    const events: GvretEvent[] = [];
    const before = this.skippedBefore;
    before.length = 0;
    let mark = this.skipped;
    for (let i = 0; i < chunk.length; i++) {
      while (events.length > before.length) {
        before.push(this.skipped - mark);
        mark = this.skipped;
      }
      const c = chunk[i];
      switch (this.state) {
        case State.Idle:
          if (c === GVRET_SYNC) this.state = State.Command;
          else if (c === GVRET_BINARY_MODE) events.push({ type: 'mode' });
          else this.skipped++;
          break;
        case State.Command:
          this.command(c, events);
          break;
        case State.Args:
          this.buf[this.have++] = c;
          if (this.have === this.need) {
            events.push({ type: 'setting', cmd: this.cmd, args: this.buf.slice(0, this.need) });
            this.state = State.Idle;
          }
          break;
        case State.FrameHeader:
          this.buf[this.have++] = c;
          if (this.have === FRAME_HEADER) this.header(events);
          break;
        case State.FrameData:
          this.buf[this.have++] = c;
          if (this.have === this.need) this.frameDone(events);
          break;
      }
    }
    while (events.length > before.length) {
      before.push(this.skipped - mark);
      mark = this.skipped;
    }
    this.skippedAfter = this.skipped - mark;
    return events;
  }

  private command(c: number, events: GvretEvent[]): void {
    this.cmd = c;
    this.have = 0;
    if (c === GVRET_SYNC) return; // `F1 F1`: the first was a stray byte; this one starts the command
    if (c === Cmd.Frame || c === Cmd.EchoCanFrame) {
      this.state = State.FrameHeader;
      return;
    }
    const args = SETTING_ARGS.get(c);
    if (args !== undefined) {
      this.need = args;
      this.state = State.Args;
      return;
    }
    this.state = State.Idle;
    events.push(NO_ARG_COMMANDS.has(c) ? { type: 'command', cmd: c } : { type: 'unknown', cmd: c });
  }

  private header(events: GvretEvent[]): void {
    const len = this.buf[5];
    // Classic lengths, or an FD length as WireTAP sends it (the byte count, not a DLC code).
    if (len > CAN_MAX_DLEN && !isValidFdLength(len)) {
      events.push({ type: 'bad_frame', reason: `length ${len} is neither 0..8 nor a CAN FD length`, bytes: this.message() });
      this.state = State.Idle;
      return;
    }
    this.need = FRAME_HEADER + len;
    if (len === 0) this.frameDone(events);
    else this.state = State.FrameData;
  }

  private frameDone(events: GvretEvent[]): void {
    this.state = State.Idle;
    const word = readU32(this.buf, 0);
    const len = this.buf[5];
    let id: number;
    if ((word & CAN_EFF_FLAG) !== 0) {
      id = (CAN_EFF_FLAG | (word & CAN_EFF_MASK)) >>> 0;
    } else if (word > CAN_SFF_MASK) {
      const reason = `standard id 0x${word.toString(16)} is over 0x7FF (an extended id needs bit 31 set)`;
      events.push({ type: 'bad_frame', reason, bytes: this.message() });
      return;
    } else {
      id = word;
    }
    const frame: CanFrame = {
      id,
      len,
      data: this.buf.slice(FRAME_HEADER, FRAME_HEADER + len),
      fd: len > CAN_MAX_DLEN,
      fdFlags: 0,
      timestamp: 0,
    };
    events.push({ type: 'frame', cmd: this.cmd, bus: this.buf[4], frame });
  }

  /** The whole message read so far, `F1 cmd` included (for logs). */
  private message(): Uint8Array {
    const out = new Uint8Array(2 + this.have);
    out[0] = GVRET_SYNC;
    out[1] = this.cmd;
    out.set(this.buf.subarray(0, this.have), 2);
    return out;
  }
}
