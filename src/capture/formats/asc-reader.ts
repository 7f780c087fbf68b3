// Reads ASC logs back (`capture import`): ours, log2asc's, python-can's and Vector's plain
// CAN/CAN FD lines; statistics, comments and other events are skipped. Line by line, with
// the little state the header carries (start time, number base, channel names). Pure.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, type CanFrame } from '../../core/frame.js';
import { ASC_CHANNELS_COMMENT } from './asc.js';
import type { ParsedFrame } from './candump.js';

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  mär: 2,
  apr: 3,
  may: 4,
  mai: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  okt: 9,
  nov: 10,
  dec: 11,
  dez: 11,
};

/** `Mon Dec 07 11:53:49.000 PM 2026` or `Tue Nov 14 22:13:20 2023` (local time) → ms; null if not a date. */
export function parseAscDate(text: string): number | null {
  const m = /^\s*\S+\s+(\S+)\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*(am|pm)?\s+(\d{4})\s*$/i.exec(text);
  if (!m) return null;
  const month = MONTHS[m[1].toLowerCase()];
  if (month === undefined) return null;
  let hours = Number(m[3]);
  if (m[7]) hours = (hours % 12) + (m[7].toLowerCase() === 'pm' ? 12 : 0);
  const ms = Math.round(Number(`0.${m[6] ?? '0'}`) * 1000);
  return new Date(Number(m[8]), month, Number(m[2]), hours, Number(m[4]), Number(m[5]), ms).getTime();
}

export class AscReader {
  private startUs = 0;
  private base = 16;
  private relative = false;
  private lastUs = 0;
  private readonly channels = new Map<number, string>();

  constructor(private readonly nameOf: (channel: number) => string = (ch) => `can${ch - 1}`) {}

  /** One line; a frame, or null for headers and everything that is not a CAN frame. */
  line(raw: string): ParsedFrame | null {
    const line = raw.trim();
    if (line === '') return null;
    const dated = /^(?:date|begin\s+triggerblock)\s+(.*)$/i.exec(line);
    if (dated) {
      const ms = parseAscDate(dated[1]);
      if (ms !== null) this.startUs = ms * 1000;
      return null;
    }
    const base = /^base\s+(hex|dec)(?:\s+timestamps\s+(absolute|relative))?/i.exec(line);
    if (base) {
      this.base = base[1].toLowerCase() === 'dec' ? 10 : 16;
      this.relative = (base[2] ?? '').toLowerCase() === 'relative';
      return null;
    }
    if (line.startsWith(ASC_CHANNELS_COMMENT)) {
      for (const pair of line.slice(ASC_CHANNELS_COMMENT.length).trim().split(/\s+/)) {
        const [ch, name] = pair.split('=');
        if (name && /^\d+$/.test(ch)) this.channels.set(Number(ch), name);
      }
      return null;
    }
    const parts = line.split(/\s+/);
    if (!/^\d+\.\d+$/.test(parts[0])) return null;
    const [sec, frac] = parts[0].split('.');
    let tsUs = Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
    if (this.relative) tsUs += this.lastUs - this.startUs;
    tsUs += this.startUs;
    this.lastUs = tsUs;
    const frame = parts[1] === 'CANFD' ? this.fd(parts, tsUs) : this.classic(parts, tsUs);
    return frame;
  }

  private bus(channel: number): string {
    return this.channels.get(channel) ?? this.nameOf(channel);
  }

  private id(text: string): number | null {
    const ext = /x$/i.test(text);
    const v = Number.parseInt(ext ? text.slice(0, -1) : text, this.base);
    if (!Number.isFinite(v)) return null;
    return ext ? (v | CAN_EFF_FLAG) >>> 0 : v;
  }

  private classic(p: string[], tsUs: number): ParsedFrame | null {
    if (!/^\d+$/.test(p[1])) return null;
    const bus = this.bus(Number(p[1]));
    const timestamp = tsUs / 1000;
    if (/^errorframe$/i.test(p[2] ?? '')) {
      // ASC keeps no error class: an error frame of unknown kind.
      return { tsUs, bus, direction: 'rx', frame: { id: CAN_ERR_FLAG >>> 0, len: 8, data: new Uint8Array(8), fd: false, fdFlags: 0, timestamp } };
    }
    const id = this.id(p[2] ?? '');
    const dir = p[3];
    if (id === null || (dir !== 'Rx' && dir !== 'Tx')) return null;
    const direction = dir === 'Tx' ? 'tx' : 'rx';
    const kind = (p[4] ?? '').toLowerCase();
    if (kind === 'r') {
      const len = p[5] !== undefined && /^[0-9a-f]$/i.test(p[5]) ? Number.parseInt(p[5], 16) : 0;
      return {
        tsUs,
        bus,
        direction,
        frame: { id: (id | CAN_RTR_FLAG) >>> 0, len: Math.min(len, 8), data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp },
      };
    }
    if (kind !== 'd') return null;
    const len = Math.min(8, Number.parseInt(p[5] ?? '', 16));
    if (!Number.isFinite(len)) return null;
    const bytes = p.slice(6, 6 + len).map((b) => Number.parseInt(b, this.base));
    if (bytes.length !== len || bytes.some((b) => !(b >= 0 && b <= 255))) return null;
    return { tsUs, bus, direction, frame: { id, len, data: Uint8Array.from(bytes), fd: false, fdFlags: 0, timestamp } };
  }

  /** `CANFD <ch> <Rx|Tx> <id> [name] <brs> <esi> <dlc> <len> <bytes…> …` */
  private fd(p: string[], tsUs: number): ParsedFrame | null {
    const bus = this.bus(Number(p[2]));
    const direction = p[3] === 'Tx' ? 'tx' : 'rx';
    const id = this.id(p[4] ?? '');
    if (id === null) return null;
    // A symbolic name may sit between the ID and BRS.
    let k = 5;
    if (!/^[01]$/.test(p[k] ?? '')) k++;
    const brs = p[k] === '1';
    const esi = p[k + 1] === '1';
    const len = Number(p[k + 3]);
    if (!(len >= 0 && len <= 64)) return null;
    const bytes = p.slice(k + 4, k + 4 + len).map((b) => Number.parseInt(b, this.base));
    if (bytes.length !== len) return null;
    const frame: CanFrame = { id, len, data: Uint8Array.from(bytes), fd: true, fdFlags: (brs ? CANFD_BRS : 0) | (esi ? CANFD_ESI : 0), timestamp: tsUs / 1000 };
    return { tsUs, bus, direction, frame };
  }
}
