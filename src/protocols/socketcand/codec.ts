// socketcand ASCII codec: what the server writes (frames, errors, replies, statistics, the
// beacon) and how the arguments of client commands are read. Pure: no I/O, no timers; the
// clock is passed in.
//
// Reading is more tolerant than upstream socketcand, because real clients differ from it:
// - an ID token of exactly 8 hex digits is extended and masked to 29 bits (SavvyCAN sets
//   bit 31 as its EFF flag); an ID above 0x7FF is extended too, since python-can 4.1 sends
//   extended IDs without zero padding (`< send 1 1 aa >` for EFF 0x1 is lost, nothing can
//   recover it); upstream instead puts an unmasked 0x800 on the bus as a standard frame;
// - the DLC is read as hex, which equals decimal for every valid DLC 0..8;
// - a send with fewer data bytes than its DLC is python-can's form of a remote request: it
//   is refused (the caller counts it), as upstream does.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from '../../core/frame.js';
import type { FrameEncoder } from '../types.js';

export const BEACON_PORT = 42000;
export const BEACON_INTERVAL_MS = 3000;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** A server message: `< ok >`, `< error could not open bus >`. Fresh bytes each call. */
export const message = (text: string): Uint8Array => ascii(`< ${text} >`);
export const HI = '< hi >';

// ---------------------------------------------------------------- reading client arguments

const HEX = /^[0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

/**
 * A CAN ID token → SocketCAN can_id (EFF flag set for extended IDs), or null if it is not
 * hex or does not fit 32 bits.
 */
export function parseCanId(token: string): number | null {
  if (!HEX.test(token)) return null;
  const digits = token.replace(/^0+(?=.)/, '');
  if (digits.length > 8) return null;
  const value = parseInt(digits, 16) >>> 0;
  if (token.length >= 8 || value > CAN_SFF_MASK) return ((value & CAN_EFF_MASK) | CAN_EFF_FLAG) >>> 0;
  return value;
}

/** The DLC token of send/add/update/filter: 0..8 (hex and decimal read the same there). */
export function parseDlc(token: string | undefined): number | null {
  if (token === undefined || !HEX.test(token) || token.length > 2) return null;
  const n = parseInt(token, 16);
  return n <= 8 ? n : null;
}

/** One data byte token: 1 or 2 hex digits, any case. */
export function parseByte(token: string): number | null {
  if (token.length > 2 || !HEX.test(token)) return null;
  return parseInt(token, 16);
}

/** A decimal unsigned integer (seconds, microseconds, milliseconds) up to 2^53. */
export function parseUnsigned(token: string | undefined): number | null {
  if (token === undefined || !DEC.test(token) || token.length > 15) return null;
  return Number(token);
}

export type ArgResult<T> = { ok: true; value: T } | { ok: false; code: 'syntax' | 'short_data' | 'bad_dlc' | 'bad_id' | 'extra_data'; detail: string };

const fail = <T>(code: 'syntax' | 'short_data' | 'bad_dlc' | 'bad_id' | 'extra_data', detail: string): ArgResult<T> => ({ ok: false, code, detail });

/**
 * `ID DLC B0 … B(DLC-1)` starting at words[from] → a classic data frame (timestamp 0: it
 * comes from a client). Used by send, add, update and filter.
 */
export function parseFrameArgs(words: readonly string[], from: number): ArgResult<CanFrame> {
  const idToken = words[from];
  if (idToken === undefined) return fail('syntax', 'missing CAN ID');
  const id = parseCanId(idToken);
  if (id === null) return fail('bad_id', `CAN ID "${idToken}" is not hex`);
  const dlc = parseDlc(words[from + 1]);
  if (dlc === null) return fail('bad_dlc', `DLC "${words[from + 1] ?? ''}" is not 0..8`);
  const bytes = words.length - from - 2;
  if (bytes < dlc) return fail('short_data', `DLC ${dlc} with ${bytes} data bytes (a remote request is not supported)`);
  if (bytes > dlc) return fail('extra_data', `DLC ${dlc} with ${bytes} data bytes`);
  const data = new Uint8Array(dlc);
  for (let k = 0; k < dlc; k++) {
    const b = parseByte(words[from + 2 + k]);
    if (b === null) return fail('syntax', `data byte "${words[from + 2 + k]}" is not hex`);
    data[k] = b;
  }
  return { ok: true, value: { id, len: dlc, data, fd: false, fdFlags: 0, timestamp: 0 } };
}

/** `SEC USEC` → microseconds. */
export function parseInterval(words: readonly string[], from: number): ArgResult<number> {
  const sec = parseUnsigned(words[from]);
  const usec = parseUnsigned(words[from + 1]);
  if (sec === null || usec === null) return fail('syntax', `interval "${words[from] ?? ''} ${words[from + 1] ?? ''}" is not SEC USEC`);
  return { ok: true, value: sec * 1_000_000 + usec };
}

// ---------------------------------------------------------------- writing frames

const HEX_UPPER = ascii('0123456789ABCDEF');
const FRAME_PREFIX = ascii('< frame ');
const ERROR_PREFIX = ascii('< error ');

/** Writes `value` as upper-case hex with at least `width` digits; returns the new offset. */
function writeHex(out: Uint8Array, at: number, value: number, width: number): number {
  let digits = 1;
  while (digits < 8 && value >>> (4 * digits) !== 0) digits++;
  if (digits < width) digits = width;
  for (let k = digits - 1; k >= 0; k--) out[at++] = HEX_UPPER[(value >>> (4 * k)) & 0xf];
  return at;
}

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let k = 0; k < text.length; k++) out[at++] = text.charCodeAt(k);
  return at;
}

/** `SEC.USEC` with six microsecond digits, from ms since the epoch (fractional). */
export function formatTimestamp(ms: number): string {
  let sec = Math.floor(ms / 1000);
  let usec = Math.round((ms - sec * 1000) * 1000);
  if (usec >= 1_000_000) {
    sec += 1;
    usec -= 1_000_000;
  }
  return `${sec}.${String(usec).padStart(6, '0')}`;
}

/** `%03X` for a standard ID, `%08X` for an extended one (flag stripped), as upstream. */
function writeId(out: Uint8Array, at: number, canId: number): number {
  return (canId & CAN_EFF_FLAG) !== 0 ? writeHex(out, at, canId & CAN_EFF_MASK, 8) : writeHex(out, at, canId & CAN_SFF_MASK, 3);
}

/**
 * RAW mode: `< frame ID SEC.USEC DATA >` with contiguous upper-case hex data; a zero-length
 * frame keeps both spaces (`< frame 123 1.000000  >`), which python-can needs.
 * `time` is ms since the epoch. Remote and FD frames have no RAW form (upstream drops them).
 *
 * Unlike upstream, a space precedes every RAW-mode message. python-can 4.1 (Debian 12, so
 * Raspberry Pi OS bookworm) drops the character after each message it parses, so a message
 * cut across two of its reads lost its `<` and vanished (2-3 % of a burst); now the dropped
 * character is that space and nothing is lost. A trailing newline would do the same but
 * makes 4.1 log "Bad data" for nearly every read; a leading space only when a read ends
 * right after it. Every other client skips to the next `<`. Never before `< hi >`/`< ok >`:
 * 4.1 compares those exactly.
 */
export function encodeRawFrame(frame: CanFrame, time: number): Uint8Array | null {
  return encodeFrameMessage(frame, time, 'raw');
}

/** BCM mode: `< frame ID SEC.USEC B0 B1 …  >`: every byte followed by a space, then ` >`. */
export function encodeBcmFrame(frame: CanFrame, time: number): Uint8Array | null {
  return encodeFrameMessage(frame, time, 'bcm');
}

/**
 * The one `< frame … >` writer. The two modes differ in two bytes' worth of layout: RAW
 * leads with a space (see encodeRawFrame) and packs the data as one hex run; BCM puts a
 * space after every data byte.
 */
function encodeFrameMessage(frame: CanFrame, time: number, mode: 'raw' | 'bcm'): Uint8Array | null {
  if ((frame.id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) !== 0 || frame.fd) return null;
  const raw = mode === 'raw';
  const ts = formatTimestamp(time);
  const lead = raw ? 1 : 0;
  const out = new Uint8Array(lead + 8 + 8 + 1 + ts.length + 1 + (raw ? 2 : 3) * frame.len + 2);
  if (raw) out[0] = 0x20;
  out.set(FRAME_PREFIX, lead);
  let at = writeId(out, lead + 8, frame.id);
  out[at++] = 0x20;
  at = writeAscii(out, at, ts);
  out[at++] = 0x20;
  const data = frame.data;
  for (let k = 0; k < frame.len; k++) {
    out[at++] = HEX_UPPER[data[k] >>> 4];
    out[at++] = HEX_UPPER[data[k] & 0xf];
    if (!raw) out[at++] = 0x20;
  }
  out[at++] = 0x20;
  out[at++] = 0x3e;
  return out.subarray(0, at);
}

/**
 * RAW-mode error frame as upstream writes it: `< error CLASS SEC.USEC >`, CLASS being the
 * error class bits (can_id without flags) as `%03X` (bus-off → `040`). The data bytes are
 * not sent, as upstream. Preceded by a space like every RAW-mode message (see encodeRawFrame).
 */
export function encodeErrorFrame(frame: CanFrame, time: number): Uint8Array | null {
  if ((frame.id & CAN_ERR_FLAG) === 0) return null;
  const ts = formatTimestamp(time);
  const out = new Uint8Array(1 + 8 + 8 + 1 + ts.length + 2);
  out[0] = 0x20;
  out.set(ERROR_PREFIX, 1);
  let at = writeHex(out, 9, frame.id & CAN_EFF_MASK, 3);
  out[at++] = 0x20;
  at = writeAscii(out, at, ts);
  out[at++] = 0x20;
  out[at++] = 0x3e;
  return out.subarray(0, at);
}

/**
 * The frame's own receive time (kernel timestamp where the backend has one), else now: a
 * frame that came from another client has no receive time of its own.
 */
const timeOf = (frame: CanFrame, clock: () => number): number => (frame.timestamp > 0 ? frame.timestamp : clock());

/** RAW-mode encoder (data frames and, where they are forwarded at all, error frames). */
export function rawFrameEncoder(clock: () => number): FrameEncoder {
  return {
    encode(frame) {
      const time = timeOf(frame, clock);
      return (frame.id & CAN_ERR_FLAG) !== 0 ? encodeErrorFrame(frame, time) : encodeRawFrame(frame, time);
    },
  };
}

/** BCM-mode encoder (spaced bytes). */
export function bcmFrameEncoder(clock: () => number): FrameEncoder {
  return { encode: (frame) => encodeBcmFrame(frame, timeOf(frame, clock)) };
}

/** CONTROL mode: `< stat rbytes rpackets tbytes tpackets >` (unsigned 32-bit, as /proc/net/dev). */
export function formatStat(s: { rxBytes: number; rxFrames: number; txBytes: number; txFrames: number }): Uint8Array {
  const u32 = (n: number): number => Math.floor(n) % 2 ** 32;
  return message(`stat ${u32(s.rxBytes)} ${u32(s.rxFrames)} ${u32(s.txBytes)} ${u32(s.txFrames)}`);
}

// ---------------------------------------------------------------- beacon

export interface BeaconInfo {
  hostname: string;
  /** The address the client should connect to (the interface's own IPv4 address). */
  address: string;
  port: number;
  buses: readonly string[];
  description?: string;
}

const xmlAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Upstream's beacon: the hostname cut to 32 bytes (the size of its gethostname buffer), one
 * `\n` after the opening tag and none at the end.
 */
export function beaconMessage(b: BeaconInfo): string {
  const host = b.hostname.slice(0, 32);
  const buses = b.buses.map((n) => `<Bus name="${xmlAttr(n)}"/>`).join('');
  return `<CANBeacon name="${xmlAttr(host)}" type="SocketCAN" description="${xmlAttr(b.description ?? 'socketcand')}">\n<URL>can://${b.address}:${b.port}</URL>${buses}</CANBeacon>`;
}
