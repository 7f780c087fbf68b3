// The shape every export codec shares: pure encoders that turn stored (or live) frames
// into bytes, chunk by chunk, so a caller streams any number of frames in bounded memory.
import type { CapturedFrame } from '../schema.js';

export const EXPORT_FORMATS = ['candump', 'gvret-csv', 'asc', 'pcapng', 'pcap'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A frame as the encoders need it: a stored row, or a live frame from the daemon. */
export type ExportFrame = Pick<CapturedFrame, 'bus' | 'tsUs' | 'frame' | 'direction'>;

export interface EncoderOptions {
  /**
   * Bus names in channel order (ASC channel = index + 1, PCAPNG interface = index, GVRET
   * bus number = index). A bus not listed is appended when its first frame comes.
   */
  buses?: readonly string[];
  /** Wall clock in ms, for headers of an export with no frame (ASC's date line). */
  now?: () => number;
}

export interface FrameEncoder {
  readonly format: ExportFormat;
  /** Encodes one frame; false when the format cannot hold it (skipped, the caller counts it). */
  add(c: ExportFrame): boolean;
  /** Writes what ends the file (ASC's End TriggerBlock); nothing may be added after it. */
  finish(): void;
  /** Bytes encoded and not yet taken. */
  readonly pending: number;
  /** Takes the encoded bytes (may be empty). */
  take(): Buffer;
}

/** Channel numbering shared by the encoders: the order of `buses`, then first appearance. */
export class BusIndex {
  private readonly ids = new Map<string, number>();
  constructor(buses: readonly string[] = []) {
    for (const b of buses) if (!this.ids.has(b)) this.ids.set(b, this.ids.size);
  }
  /** [index, isNew] */
  of(bus: string): [number, boolean] {
    const id = this.ids.get(bus);
    if (id !== undefined) return [id, false];
    const next = this.ids.size;
    this.ids.set(bus, next);
    return [next, true];
  }
  names(): string[] {
    return [...this.ids.keys()];
  }
}

/** Text encoders collect lines in a string; taking converts once per chunk. */
export abstract class TextEncoderBase implements FrameEncoder {
  abstract readonly format: ExportFormat;
  protected text = '';
  abstract add(c: ExportFrame): boolean;
  finish(): void {}
  get pending(): number {
    return this.text.length;
  }
  take(): Buffer {
    const out = Buffer.from(this.text, 'latin1');
    this.text = '';
    return out;
  }
}

/** "00".."FF", looked up instead of formatted: the exports' hot path. */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
