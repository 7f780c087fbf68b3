// Frames on their way from the bus thread to the capture worker, packed into one
// transferable ArrayBuffer per batch.
//
// Why packed bytes instead of an array of objects: postMessage structured-clones objects
// (tens of µs per thousand frames, plus garbage on both threads), while an ArrayBuffer is
// transferred without a copy. The bus thread pays one DataView write per field.
import type { CanFrame } from '../core/frame.js';

/** Fixed part of one record: bus u8, direction u8, fd flags u8, len u8, id u32, ts f64, session u32, label u16. */
const HEAD = 22;
const NO_LABEL = 0xffff;

export interface FrameBatch {
  /** The packed records (transferred, so the sender's copy is detached). */
  buffer: ArrayBuffer;
  bytes: number;
  frames: number;
  /** Bus index → name, for every bus in the batch. */
  buses: Record<number, string>;
  /** Label index → text (protocol of tx frames, reason of refused ones). */
  labels: string[];
}

/** Fills one buffer; `take()` hands it over and starts a fresh one. */
export class BatchWriter {
  private buffer: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  private offset = 0;
  private count = 0;
  private buses: Record<number, string> = {};
  private labels: string[] = [];
  private labelIndex = new Map<string, number>();

  constructor(private readonly capacity = 256 * 1024) {
    this.buffer = new ArrayBuffer(capacity);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
  }

  get frames(): number {
    return this.count;
  }

  /** false when the frame does not fit: take() the batch first. */
  add(busIndex: number, busName: string, direction: number, frame: CanFrame, session: number, label: string | null): boolean {
    const rtr = (frame.id & 0x40000000) !== 0;
    const dataLen = rtr ? 0 : frame.data.length;
    if (this.offset + HEAD + dataLen > this.capacity) return false;
    if (this.buses[busIndex] === undefined) this.buses[busIndex] = busName;
    let labelId = NO_LABEL;
    if (label !== null) {
      const known = this.labelIndex.get(label);
      if (known !== undefined) labelId = known;
      else {
        labelId = this.labels.length;
        this.labels.push(label);
        this.labelIndex.set(label, labelId);
      }
    }
    const v = this.view;
    const o = this.offset;
    v.setUint8(o, busIndex);
    v.setUint8(o + 1, direction);
    v.setUint8(o + 2, frame.fd ? frame.fdFlags | 0x80 : 0);
    v.setUint8(o + 3, rtr ? frame.len : dataLen);
    v.setUint32(o + 4, frame.id >>> 0, true);
    v.setFloat64(o + 8, frame.timestamp, true);
    v.setUint32(o + 16, session >>> 0, true);
    v.setUint16(o + 20, labelId, true);
    if (dataLen > 0) this.bytes.set(frame.data, o + HEAD);
    this.offset = o + HEAD + dataLen;
    this.count++;
    return true;
  }

  take(): FrameBatch | null {
    if (this.count === 0) return null;
    const batch: FrameBatch = { buffer: this.buffer, bytes: this.offset, frames: this.count, buses: this.buses, labels: this.labels };
    this.buffer = new ArrayBuffer(this.capacity);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
    this.offset = 0;
    this.count = 0;
    this.buses = {};
    this.labels = [];
    this.labelIndex = new Map();
    return batch;
  }
}

export interface DecodedRecord {
  bus: number;
  direction: number;
  frame: CanFrame;
  session: number;
  label: string | null;
}

/** Walks the records of a batch (in the worker). */
export function* readBatch(batch: FrameBatch): Generator<DecodedRecord> {
  const v = new DataView(batch.buffer, 0, batch.bytes);
  const bytes = new Uint8Array(batch.buffer, 0, batch.bytes);
  let o = 0;
  while (o < batch.bytes) {
    const fdByte = v.getUint8(o + 2);
    const len = v.getUint8(o + 3);
    const id = v.getUint32(o + 4, true);
    // RTR frames have len = requested DLC but no data bytes.
    const dataLen = (id & 0x40000000) !== 0 ? 0 : len;
    const labelId = v.getUint16(o + 20, true);
    yield {
      bus: v.getUint8(o),
      direction: v.getUint8(o + 1),
      frame: {
        id,
        len,
        data: bytes.slice(o + HEAD, o + HEAD + dataLen),
        fd: (fdByte & 0x80) !== 0,
        fdFlags: fdByte & 0x7f,
        timestamp: v.getFloat64(o + 8, true),
      },
      session: v.getUint32(o + 16, true),
      label: labelId === NO_LABEL ? null : (batch.labels[labelId] ?? null),
    };
    o += HEAD + dataLen;
  }
}
