// GVRET binary protocol (the wire format of GVRET/ESP32RET/M2RET firmware, spoken by SavvyCAN
// and WireTAP): what the bridge sends. Pure: no I/O, no clock (callers pass the time).
// All multi-byte fields are little-endian. The stream decoder is in decoder.ts.
//
//   frame to the client  F1 00 ts:u32µs id:u32(bit31 = EFF) (len | bus<<4) data 00
//   FD, ESP32RET form    F1 14 ts:u32µs id:u32 len:u8 bus:u8 data 00
//   FD, WireTAP form     F1 00 ... with the DLC *code* (9..15 = 12..64 bytes) in the len nibble
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame, lengthToDlc } from '../../core/frame.js';
import type { BusInfo } from '../types.js';

export const GVRET_SYNC = 0xf1;
/** In idle, switches the firmware to binary mode (SavvyCAN and WireTAP send it twice). */
export const GVRET_BINARY_MODE = 0xe7;

/** Command bytes (after `F1`). */
export const Cmd = {
  Frame: 0x00,
  TimeSync: 0x01,
  DigitalInputs: 0x02,
  AnalogInputs: 0x03,
  SetDigitalOutputs: 0x04,
  SetupCanbus: 0x05,
  GetCanbusParams: 0x06,
  GetDeviceInfo: 0x07,
  SetSingleWire: 0x08,
  Keepalive: 0x09,
  SetSystemType: 0x0a,
  EchoCanFrame: 0x0b,
  GetNumBuses: 0x0c,
  GetExtBuses: 0x0d,
  SetExtBuses: 0x0e,
  FdFrame: 0x14,
} as const;

/** The firmware's timestamps are a u32 of µs: they wrap after 2^32 µs (about 71.6 minutes). */
const WRAP = 4294967296;

/**
 * A wall-clock time in ms (fractional) as GVRET's wrapping µs counter. Rounded, not floored:
 * receive times have µs resolution and `ms * 1000` can land a hair below the integer.
 */
export function gvretMicros(wallMs: number): number {
  return (Math.round(wallMs * 1000) % WRAP) >>> 0;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** The id word: bit 31 marks an extended id; RTR/ERR flags have no place in it. */
function idWord(f: CanFrame): number {
  return (f.id & CAN_EFF_FLAG) !== 0 ? (CAN_EFF_FLAG | (f.id & CAN_EFF_MASK)) >>> 0 : f.id & CAN_SFF_MASK;
}

/**
 * How FD frames reach clients of one listener. `off`: never (classic clients, SavvyCAN).
 * `esp32ret`: `F1 14`, the ESP32RET firmware's form. `wiretap`: `F1 00` with the DLC code in
 * the length nibble, the form WireTAP's desktop parses.
 */
export const GVRET_FD_MODES = ['off', 'esp32ret', 'wiretap'] as const;
export type GvretFdMode = (typeof GVRET_FD_MODES)[number];

/**
 * Encodes one bus frame for a GVRET client, or null when GVRET cannot carry it: error frames
 * (GVRET has no form for them), FD frames when `fd` is 'off', a bus index above 15 in the
 * classic form. An RTR frame goes out as a zero-length data frame, as WireTAP's server does:
 * GVRET has no remote-request form and the id is what a reverse-engineering tool shows.
 * `wallMs` is the frame's receive time; frames without one (from TCP clients) get `nowMs`.
 */
export function encodeGvretFrame(f: CanFrame, bus: number, fd: GvretFdMode, nowMs: number): Uint8Array | null {
  if ((f.id & CAN_ERR_FLAG) !== 0) return null;
  const ts = gvretMicros(f.timestamp > 0 ? f.timestamp : nowMs);
  const len = (f.id & CAN_RTR_FLAG) !== 0 ? 0 : f.len;
  if (f.fd) {
    if (fd === 'off') return null;
    if (fd === 'esp32ret') {
      if (bus > 0xff) return null;
      const out = new Uint8Array(13 + len);
      out[0] = GVRET_SYNC;
      out[1] = Cmd.FdFrame;
      putU32(out, 2, ts);
      putU32(out, 6, idWord(f));
      out[10] = len;
      out[11] = bus;
      out.set(f.data.subarray(0, len), 12);
      return out; // last byte stays 00: the trailer
    }
  }
  if (bus > 0x0f) return null;
  // A WireTAP FD length that is not a valid FD size cannot exist (frameProblem rejects it);
  // the DLC code of the next size up would make the client read bytes we do not send.
  const dlc = lengthToDlc(len);
  const out = new Uint8Array(12 + len);
  out[0] = GVRET_SYNC;
  out[1] = Cmd.Frame;
  putU32(out, 2, ts);
  putU32(out, 6, idWord(f));
  out[10] = dlc | (bus << 4);
  out.set(f.data.subarray(0, len), 11);
  return out; // last byte stays 00: the trailer SavvyCAN's parser skips in idle
}

// ---- command replies: body lengths must be exact, SavvyCAN counts bytes, not delimiters ----

export const KEEPALIVE_REPLY = Uint8Array.from([GVRET_SYNC, Cmd.Keepalive, 0xde, 0xad]);

/**
 * `F1 07`: build 400 (a GVRET build with time sync, which arrived in 333), EEPROM version 1,
 * file type 0, auto-log off, single-wire off. 6 body bytes.
 */
export const DEVICE_INFO_REPLY = Uint8Array.from([GVRET_SYNC, Cmd.GetDeviceInfo, 0x90, 0x01, 0x01, 0x00, 0x00, 0x00]);

/** `F1 01` + u32 µs, from the same clock as frame timestamps so the client's offset holds. */
export function timeSyncReply(wallMs: number): Uint8Array {
  const out = new Uint8Array(6);
  out[0] = GVRET_SYNC;
  out[1] = Cmd.TimeSync;
  putU32(out, 2, gvretMicros(wallMs));
  return out;
}

/** A bus's bitrate word for a parameters reply: 0 when unknown or absent (bits 0..27 only). */
function bitrateOf(bus: BusInfo | undefined): number {
  const rate = bus?.bitrate() ?? null;
  return rate != null && rate > 0 ? Math.min(rate, 0x0fffffff) : 0;
}

/** Status byte `enabled | listenOnly << 4`: the bridge's buses are always enabled, never listen-only. */
const busStatus = (bus: BusInfo | undefined): number => (bus ? 0x01 : 0x00);

/** `F1 06` + 10 bytes: status and bitrate of bus 0 and bus 1. */
export function busParamsReply(buses: readonly BusInfo[]): Uint8Array {
  const out = new Uint8Array(12);
  out[0] = GVRET_SYNC;
  out[1] = Cmd.GetCanbusParams;
  out[2] = busStatus(buses[0]);
  putU32(out, 3, bitrateOf(buses[0]));
  out[7] = busStatus(buses[1]);
  putU32(out, 8, bitrateOf(buses[1]));
  return out;
}

/** `F1 0C n`. */
export function numBusesReply(count: number): Uint8Array {
  return Uint8Array.from([GVRET_SYNC, Cmd.GetNumBuses, Math.min(count, 0xff)]);
}

/**
 * `F1 0D` + 15 bytes: the firmware's single-wire bus and two LIN buses. SavvyCAN shows the
 * single-wire slot as its bus 2, so a third bus of the bridge goes there; LIN stays off.
 */
export function extBusesReply(buses: readonly BusInfo[]): Uint8Array {
  const out = new Uint8Array(17);
  out[0] = GVRET_SYNC;
  out[1] = Cmd.GetExtBuses;
  out[2] = busStatus(buses[2]);
  putU32(out, 3, bitrateOf(buses[2]));
  return out;
}

/** The bitrate a `F1 05`/`F1 0E` speed word asks for (for the log), or null for "disable". */
export function requestedBitrate(word: number): { bitrate: number; enabled: boolean; listenOnly: boolean } {
  const flagsValid = (word & 0x80000000) !== 0;
  return {
    bitrate: word & 0x0fffffff,
    enabled: flagsValid ? (word & 0x40000000) !== 0 : (word & 0x0fffffff) !== 0,
    listenOnly: flagsValid && (word & 0x20000000) !== 0,
  };
}

/** Reads a u32 LE (for tests and the decoder). */
export function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
