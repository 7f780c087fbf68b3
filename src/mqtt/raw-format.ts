// Raw bus frames as MQTT messages, in SavvyCAN's MQTT connection format so SavvyCAN can
// attach to the bus through a broker. Pure.
//
// The format, from SavvyCAN's reader (collin80/SavvyCAN, connections/mqtt_bus.cpp,
// MQTT_BUS::clientMessageReceived and clientConnected):
//   - it subscribes to `<topic name>/+` and takes the CAN id from the second topic level as
//     a decimal number (`topic().split("/")[1].toInt()`): so the base must be ONE topic
//     level, and the id is decimal, without flag bits;
//   - payload bytes 0..7: timestamp in µs, little-endian u64;
//   - byte 8: flags, bit 0 = extended id (the only bit SavvyCAN reads);
//   - bytes 9..: the data.
// Our additions in the flags byte (SavvyCAN ignores them): bit 1 = RTR, bit 2 = CAN FD,
// bit 3 = error frame, bit 4 = the bridge put this frame on the bus (TX), else received.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from '../core/frame.js';

export const RAW_FLAG_EXTENDED = 0x01;
export const RAW_FLAG_RTR = 0x02;
export const RAW_FLAG_FD = 0x04;
export const RAW_FLAG_ERROR = 0x08;
export const RAW_FLAG_TX = 0x10;

/**
 * The one-level topic base of a bus's raw frames: the prefix with its `/` turned into `-`,
 * then the bus name (`ampio/home` + can0 → `ampio-home-can0`), as SavvyCAN needs one level.
 */
export function rawTopicBase(prefix: string, bus: string): string {
  return `${prefix.replace(/\//g, '-')}-${bus}`;
}

export function rawTopic(base: string, frame: CanFrame): string {
  const extended = (frame.id & CAN_EFF_FLAG) !== 0;
  return `${base}/${(frame.id & (extended ? CAN_EFF_MASK : CAN_SFF_MASK)) >>> 0}`;
}

/** The payload: 8-byte LE µs timestamp, flags, data. `timestamp` is ms since the epoch (fractional). */
export function rawPayload(frame: CanFrame, tx: boolean): Buffer {
  const out = Buffer.allocUnsafe(9 + frame.data.length);
  out.writeBigUInt64LE(BigInt(Math.max(0, Math.round(frame.timestamp * 1000))), 0);
  let flags = 0;
  if ((frame.id & CAN_EFF_FLAG) !== 0) flags |= RAW_FLAG_EXTENDED;
  if ((frame.id & CAN_RTR_FLAG) !== 0) flags |= RAW_FLAG_RTR;
  if (frame.fd) flags |= RAW_FLAG_FD;
  if ((frame.id & CAN_ERR_FLAG) !== 0) flags |= RAW_FLAG_ERROR;
  if (tx) flags |= RAW_FLAG_TX;
  out[8] = flags;
  out.set(frame.data, 9);
  return out;
}

/** Reads a payload back (tests, and anyone writing a subscriber in TypeScript). */
export function parseRawPayload(topic: string, payload: Uint8Array): { id: number; timestampUs: bigint; flags: number; data: Uint8Array } | null {
  if (payload.length < 9) return null;
  const levels = topic.split('/');
  const id = Number(levels[levels.length - 1]);
  if (!Number.isInteger(id) || id < 0) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { id, timestampUs: view.getBigUint64(0, true), flags: payload[8], data: Uint8Array.from(payload.subarray(9)) };
}
