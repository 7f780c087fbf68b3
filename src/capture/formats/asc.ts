// Vector ASC ("ASCII logging"), the plain dialect CANalyzer/CANoe, python-can, SavvyCAN and
// can-utils read: `base hex  timestamps absolute`, times in seconds since the `date` line,
// `<ch>  <id>[x]  Rx|Tx  d <dlc> <bytes>`, `r <dlc>` for remote requests, `ErrorFrame`,
// and `CANFD` lines for FD frames. Facts from python-can 4.1's can/io/asc.py (its writer's
// date format with 3 ms digits "as CANoe requires", the CANFD field order and flag bits
// 12/13/14) and can-utils' log2asc output (column layout). Pure.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, CANFD_BRS, CANFD_ESI, lengthToDlc } from '../../core/frame.js';
import { BusIndex, type EncoderOptions, type ExportFrame, HEX2, TextEncoderBase } from './types.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A channel → bus comment our importer reads back (other readers skip `//` lines). */
export const ASC_CHANNELS_COMMENT = '// ampio-bridge channels:';

/** `Mon Dec 07 11:53:49.000 PM 2026` in local time (python-can's writer format). */
export function ascDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p(d.getDate())} ${p(h12)}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)} ${d.getHours() < 12 ? 'AM' : 'PM'} ${d.getFullYear()}`;
}

/** Seconds with 6 decimals, right-aligned as log2asc writes them (`   0.000100`). */
function seconds(us: number): string {
  const s = Math.floor(us / 1e6);
  const frac = String(us - s * 1e6).padStart(6, '0');
  return `${String(s).padStart(4, ' ')}.${frac}`;
}

export class AscEncoder extends TextEncoderBase {
  readonly format = 'asc' as const;
  private readonly buses: BusIndex;
  private startUs: number | null = null;
  private readonly now: () => number;

  constructor(options: EncoderOptions = {}) {
    super();
    this.buses = new BusIndex(options.buses);
    this.now = options.now ?? Date.now;
  }

  private header(firstUs: number): void {
    // One second before the first frame's second: rows are stored in arrival order, and a
    // frame of another bus (or a TX confirmation) may be stamped a little before the one
    // before it; ASC times cannot be negative.
    this.startUs = (Math.floor(firstUs / 1e6) - 1) * 1e6;
    const date = ascDate(this.startUs / 1000);
    const channels = this.buses
      .names()
      .map((b, i) => `${i + 1}=${b}`)
      .join(' ');
    this.text += `date ${date}\nbase hex  timestamps absolute\nno internal events logged\n${ASC_CHANNELS_COMMENT} ${channels}\nBegin Triggerblock ${date}\n${seconds(0)} Start of measurement\n`;
  }

  add(c: ExportFrame): boolean {
    if (c.direction === 'refused') return false;
    const tsUs = Math.round(c.tsUs);
    if (this.startUs === null) this.header(tsUs);
    const rel = tsUs - (this.startUs as number);
    if (rel < 0) return false; // more than a second out of order: cannot be written
    const ch = this.buses.of(c.bus)[0] + 1;
    const f = c.frame;
    const t = seconds(rel);
    if (f.id & CAN_ERR_FLAG) {
      this.text += `${t} ${ch}  ErrorFrame\n`;
      return true;
    }
    const id = f.id & CAN_EFF_FLAG ? `${(f.id & CAN_EFF_MASK).toString(16).toUpperCase()}x` : (f.id & CAN_SFF_MASK).toString(16).toUpperCase();
    const dir = c.direction === 'rx' ? 'Rx' : 'Tx';
    let bytes = '';
    for (let i = 0; i < f.data.length; i++) bytes += ` ${HEX2[f.data[i]]}`;
    if (f.fd) {
      const brs = f.fdFlags & CANFD_BRS ? 1 : 0;
      const esi = f.fdFlags & CANFD_ESI ? 1 : 0;
      const flags = (1 << 12) | (brs << 13) | (esi << 14);
      // duration, bit count, flags, crc and the four bit-timing words: not known here.
      this.text += `${t} CANFD ${String(ch).padStart(3)} ${dir.padEnd(4)} ${id.padStart(8)}  ${''.padStart(32)} ${brs} ${esi} ${lengthToDlc(f.len).toString(16)} ${String(f.len).padStart(2)}${bytes} ${'0'.padStart(8)} ${'0'.padStart(4)} ${flags.toString(16).toUpperCase().padStart(8)} ${'0'.padStart(8)} ${'0'.padStart(8)} ${'0'.padStart(8)} ${'0'.padStart(8)} ${'0'.padStart(8)}\n`;
      return true;
    }
    if (f.id & CAN_RTR_FLAG) this.text += `${t} ${ch}  ${id.padEnd(15)} ${dir}   r ${f.len.toString(16)}\n`;
    else this.text += `${t} ${ch}  ${id.padEnd(15)} ${dir}   d ${f.len.toString(16)}${bytes}\n`;
    return true;
  }

  override finish(): void {
    if (this.startUs === null) this.header(this.now() * 1000);
    this.text += 'End TriggerBlock\n';
  }
}
