// Streams frames through an export encoder into any Writable (a file, stdout, an HTTP
// response): memory stays at one chunk whatever the row count, and a slow reader holds
// the loop at `drain` instead of buffering. The I/O edge of ./formats/.
import type { Writable } from 'node:stream';
import { createEncoder, type EncoderOptions, type ExportFormat, type ExportFrame } from './formats/index.js';

/** Bytes gathered before a write: large enough for few syscalls, small enough to not matter. */
const CHUNK_BYTES = 1 << 17;

export interface ExportResult {
  /** Frames written. */
  written: number;
  /** Frames the format cannot hold (error frames in GVRET CSV, refused frames in ASC/PCAP). */
  skipped: number;
}

/**
 * Writes `rows` as `format` to `out` (which it does not end). The rows may be a generator
 * over the store: it is pulled only as fast as `out` takes the bytes. Rejects with "the
 * output was closed" when `out` closes first (a download cancelled half-way): the caller
 * stops there. An HTTP handler: set FORMAT_FILES[format].contentType, then
 * `await writeExport(format, queryFrames(store, filter), res, { buses })` and `res.end()`.
 */
export async function writeExport(format: ExportFormat, rows: Iterable<ExportFrame>, out: Writable, options: EncoderOptions = {}): Promise<ExportResult> {
  const encoder = createEncoder(format, options);
  let written = 0;
  let skipped = 0;
  for (const row of rows) {
    if (encoder.add(row)) written++;
    else skipped++;
    if (encoder.pending >= CHUNK_BYTES && !out.write(encoder.take())) await drained(out);
  }
  encoder.finish();
  if (encoder.pending > 0 && !out.write(encoder.take())) await drained(out);
  return { written, skipped };
}

function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.reject(new Error('the output was closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the output was closed'));
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}
