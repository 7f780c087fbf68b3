// Export formats by name, for the CLI, the web page's downloads and the live stream.
import { AscEncoder } from './asc.js';
import { CandumpEncoder } from './candump.js';
import { GvretCsvEncoder } from './gvret-csv.js';
import { PcapEncoder } from './pcap.js';
import { PcapngEncoder } from './pcapng.js';
import { EXPORT_FORMATS, type EncoderOptions, type ExportFormat, type FrameEncoder } from './types.js';

export { EXPORT_FORMATS, type ExportFormat, type ExportFrame, type FrameEncoder, type EncoderOptions } from './types.js';

export function createEncoder(format: ExportFormat, options: EncoderOptions = {}): FrameEncoder {
  switch (format) {
    case 'candump':
      return new CandumpEncoder(options);
    case 'gvret-csv':
      return new GvretCsvEncoder(options);
    case 'asc':
      return new AscEncoder(options);
    case 'pcapng':
      return new PcapngEncoder(options);
    case 'pcap':
      return new PcapEncoder(options);
  }
}

export function isExportFormat(name: string): name is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(name);
}

/** What a download of each format is called and served as (the web page, -o hints). */
export const FORMAT_FILES: Record<ExportFormat, { extension: string; contentType: string }> = {
  candump: { extension: 'log', contentType: 'text/plain; charset=utf-8' },
  'gvret-csv': { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
  asc: { extension: 'asc', contentType: 'text/plain; charset=utf-8' },
  pcapng: { extension: 'pcapng', contentType: 'application/x-pcapng' },
  pcap: { extension: 'pcap', contentType: 'application/vnd.tcpdump.pcap' },
};
