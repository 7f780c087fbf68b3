// `--tx-ids`: which CAN IDs a client may send, as `id/mask` pairs like SocketCAN filters:
// a frame passes when (frame_id & mask) === (id & mask) for any pair. Extended and standard
// IDs are told apart as on the bus: an ID above 0x7FF, or written with 8 hex digits, is
// extended; a pair matches only frames of its own kind.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_SFF_MASK } from '../core/frame.js';

export interface IdMask {
  readonly id: number;
  readonly mask: number;
  readonly extended: boolean;
  readonly text: string;
}

export function parseIdMaskList(raw: string): IdMask[] {
  const words = raw
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  return words.map(parseIdMask);
}

function parseHex(text: string, what: string, whole: string): number {
  const t = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,8}$/.test(t)) throw new Error(`"${whole}": the ${what} "${text}" is not hex (like 1d0 or 0x1d0)`);
  return parseInt(t, 16);
}

/** `1d0` (exactly that ID), `100/700` (0x100-0x1FF), `1e000000/1f000000` (an extended range). */
export function parseIdMask(word: string): IdMask {
  const [idText, maskText, extra] = word.split('/');
  if (extra !== undefined) throw new Error(`"${word}" has more than one "/" (expected id/mask like 100/700)`);
  const id = parseHex(idText, 'ID', word);
  const digits = idText.trim().replace(/^0x/i, '').length;
  const extended = id > CAN_SFF_MASK || digits === 8;
  const full = extended ? CAN_EFF_MASK : CAN_SFF_MASK;
  if (id > CAN_EFF_MASK) throw new Error(`"${word}": ${idText} is larger than a 29-bit CAN ID`);
  const mask = maskText === undefined ? full : parseHex(maskText, 'mask', word) & full;
  return { id: id & mask, mask, extended, text: word.trim() };
}

export function formatIdMaskList(list: readonly IdMask[]): string {
  return list.map((m) => m.text).join(',');
}

/** Whether `canId` (a SocketCAN can_id with flags) is allowed; an empty list allows every ID. */
export function idAllowed(list: readonly IdMask[], canId: number): boolean {
  if (list.length === 0) return true;
  const extended = (canId & CAN_EFF_FLAG) !== 0;
  const raw = extended ? canId & CAN_EFF_MASK : canId & CAN_SFF_MASK;
  for (const m of list) {
    if (m.extended === extended && (raw & m.mask) === m.id) return true;
  }
  return false;
}
