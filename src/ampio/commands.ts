// Encoders of Ampio commands. They only build frames: nothing here sends one. A command is
// an extended frame to 0x0F000000 whose data is the target module's address (u32
// big-endian) followed by the command bytes (kstaniek/aioampio aioampio/controllers/base.py:
// CTRL_CAN_ID, _send_command). Commands too long for one frame use the multi-frame form
// (aioampio/controllers/utils.py: generate_multican_payload): function 16, a chunk number,
// then a first chunk of [(length + 1) >> 1, byte sum & 0xFF] and the payload in 2-byte chunks.
// Indexes here are 1-based (as in `bout.3`); the wire carries index − 1.
import { CAN_EFF_FLAG, type CanFrame } from '../core/frame.js';
import { COMMAND_CAN_ID } from './decoder.js';
import type { CommandEncoders } from './types.js';

/** Single-frame set-output function (aioampio/controllers/switches.py and lights.py: 0x15). */
const FN_SET = 0x15;
/** Multi-frame function (aioampio/controllers/utils.py: function_code = 0x16). */
const FN_MULTI = 0x16;
/** Multi-frame command bytes (aioampio/controllers/switches.py 2F F9, covers.py 31 F9 / 31 03). */
const CMD_FLAG = [0x2f, 0xf9] as const;
const CMD_COVER = [0x31, 0xf9] as const;
const CMD_COVER_POSITION = [0x31, 0x03] as const;
/** Multi-frame light commands of the models without a single-frame form (lights.py, `case _`): 30 F9 on/off, 36 F9 level. */
const CMD_LIGHT_SWITCH = [0x30, 0xf9] as const;
const CMD_LIGHT_LEVEL = [0x36, 0xf9] as const;
/** covers.py: _CMD_COVER_OPEN 2, _CMD_COVER_CLOSE 1, _CMD_COVER_STOP 0; 0x65 = leave unchanged. */
const COVER_ACTION = { open: 0x02, close: 0x01, stop: 0x00 } as const;
const KEEP = 0x65;

function checkModule(module: number): void {
  if (!Number.isInteger(module) || module < 0 || module > 0x1fffffff) throw new RangeError(`module address ${module} is not a 29-bit CAN id`);
}

function checkIndex(index: number, max = 256): number {
  if (!Number.isInteger(index) || index < 1 || index > max) throw new RangeError(`output index ${index} is outside 1..${max}`);
  return index - 1;
}

function checkByte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`${what} ${value} is outside 0..255`);
  return value;
}

/** One command frame: address (u32 BE) + bytes. */
function frame(module: number, bytes: readonly number[]): CanFrame {
  const data = new Uint8Array(4 + bytes.length);
  new DataView(data.buffer).setUint32(0, module >>> 0, false);
  data.set(bytes, 4);
  return { id: (COMMAND_CAN_ID | CAN_EFF_FLAG) >>> 0, len: data.length, data, fd: false, fdFlags: 0, timestamp: 0 };
}

export function encodeMultiFrame(module: number, payload: Uint8Array): CanFrame[] {
  checkModule(module);
  if (payload.length === 0 || payload.length > 255) throw new RangeError(`a multi-frame payload is 1..255 bytes, not ${payload.length}`);
  let sum = 0;
  for (const b of payload) sum = (sum + b) & 0xff;
  const chunks: number[][] = [[((payload.length + 1) >> 1) & 0xff, sum]];
  for (let i = 0; i < payload.length; i += 2) chunks.push(Array.from(payload.subarray(i, i + 2)));
  return chunks.map((chunk, n) => frame(module, [FN_MULTI, n & 0xff, ...chunk]));
}

export function encodeBinaryOutput(module: number, index: number, on: boolean): CanFrame[] {
  checkModule(module);
  return [frame(module, [FN_SET, on ? 0xff : 0x00, checkIndex(index)])];
}

export function encodeAnalogOutput(module: number, index: number, value: number): CanFrame[] {
  checkModule(module);
  // aioampio/controllers/lights.py (MDIM, MLED, MREL8S, MINOC4P): 15 <brightness> <index−1> 00.
  return [frame(module, [FN_SET, checkByte(value, 'brightness'), checkIndex(index), 0x00])];
}

export function encodeRgbw(module: number, rgbw: readonly [number, number, number, number]): CanFrame[] {
  checkModule(module);
  // aioampio/controllers/lights.py (MRGBW): one `15 <v> <i>` per channel i = 0..3.
  return rgbw.map((v, i) => frame(module, [FN_SET, checkByte(v, ['red', 'green', 'blue', 'white'][i]), i]));
}

export function encodeLightSwitch(module: number, index: number, on: boolean): CanFrame[] {
  // aioampio/controllers/lights.py, any model but MRGBW/MLED/MINOC4P/MDIM/MREL8S: 30 F9 01|00 <index−1>.
  return encodeMultiFrame(module, Uint8Array.from([...CMD_LIGHT_SWITCH, on ? 0x01 : 0x00, checkIndex(index)]));
}

export function encodeLightLevel(module: number, index: number, value: number): CanFrame[] {
  // aioampio/controllers/lights.py, same models: 36 F9 <brightness> <index−1>.
  return encodeMultiFrame(module, Uint8Array.from([...CMD_LIGHT_LEVEL, checkByte(value, 'brightness'), checkIndex(index)]));
}

export function encodeFlag(module: number, index: number, on: boolean): CanFrame[] {
  return encodeMultiFrame(module, Uint8Array.from([...CMD_FLAG, on ? 0x01 : 0x00, checkIndex(index)]));
}

export function encodeCover(module: number, index: number, action: 'open' | 'close' | 'stop'): CanFrame[] {
  const code = COVER_ACTION[action];
  if (code === undefined) throw new RangeError(`cover action "${String(action)}" is not open, close or stop`);
  return encodeMultiFrame(module, Uint8Array.from([...CMD_COVER, code, checkIndex(index)]));
}

export function encodeCoverPosition(module: number, index: number, position: number | null, tilt: number | null): CanFrame[] {
  const pct = (v: number | null, what: string): number => {
    if (v === null) return KEEP;
    if (!Number.isFinite(v)) throw new RangeError(`${what} ${v} is not a number`);
    return Math.max(0, Math.min(100, Math.round(v)));
  };
  return encodeMultiFrame(module, Uint8Array.from([...CMD_COVER_POSITION, checkIndex(index), 0x00, 0x00, pct(position, 'position'), pct(tilt, 'tilt')]));
}

/** The encoders as one object (the CommandEncoders interface of types.ts). */
export const ampioCommands: CommandEncoders = {
  encodeBinaryOutput,
  encodeAnalogOutput,
  encodeRgbw,
  encodeFlag,
  encodeLightSwitch,
  encodeLightLevel,
  encodeCover,
  encodeCoverPosition,
  encodeMultiFrame,
};
