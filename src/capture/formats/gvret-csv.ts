// SavvyCAN's "GVRET" CSV. Pure.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_SFF_MASK } from '../../core/frame.js';
import { BusIndex, type EncoderOptions, type ExportFrame, HEX2, TextEncoderBase } from './types.js';

export const GVRET_CSV_HEADER = 'Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8';

/**
 * One SavvyCAN "GVRET" CSV row: µs timestamp, 8-digit hex ID, Extended, Rx/Tx, bus
 * number, length, then each data byte followed by a comma (as SavvyCAN writes it).
 * Error frames have no form here and are skipped by the caller.
 */
export function gvretCsvLine(c: ExportFrame, busNumber: number): string {
  const f = c.frame;
  const extended = (f.id & CAN_EFF_FLAG) !== 0;
  const id = (extended ? f.id & CAN_EFF_MASK : f.id & CAN_SFF_MASK).toString(16).toUpperCase().padStart(8, '0');
  let bytes = '';
  for (const b of f.data) bytes += `${HEX2[b]},`;
  return `${Math.round(c.tsUs)},${id},${extended},${c.direction === 'rx' ? 'Rx' : 'Tx'},${busNumber},${f.len},${bytes}`;
}

export class GvretCsvEncoder extends TextEncoderBase {
  readonly format = 'gvret-csv' as const;
  private readonly buses: BusIndex;
  constructor(options: EncoderOptions = {}) {
    super();
    this.buses = new BusIndex(options.buses);
    this.text = `${GVRET_CSV_HEADER}\n`;
  }
  add(c: ExportFrame): boolean {
    if (c.frame.id & CAN_ERR_FLAG) return false; // GVRET CSV has no error frames
    this.text += `${gvretCsvLine(c, this.buses.of(c.bus)[0])}\n`;
    return true;
  }
}
