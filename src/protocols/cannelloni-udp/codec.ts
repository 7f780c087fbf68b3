// cannelloni's UDP/SCTP datagram, format version 2 (mguentner/cannelloni 2.1.2): a 5-byte header
// then frames in the same encoding as its TCP stream (../cannelloni/codec.ts). Pure.
//
//   version (1) = 2 | op code (1): 0 DATA, 1 ACK, 2 NACK | seq_no (1) | count (2, big-endian) | frames
//
// Facts from mguentner/cannelloni: doc/udp_format.md (layout, big-endian), cannelloni.h
// (CANNELLONI_FRAME_VERSION 2, op codes DATA/ACK/NACK, 5-byte packet header), parser.cpp
// (a count of 0 is ignored silently; a packet shorter than its count says is "incomplete";
// the sender stops adding frames when the next would pass the payload size), udpthread.cpp
// (payload = link MTU − 20 (IPv4) or 40 (IPv6) − 8 (UDP); seq_no counts datagrams, mod 256;
// recvfrom reads at most the link MTU, 1500 by default, so a longer datagram is cut there).
import type { CanFrame } from '../../core/frame.js';
import type { DatagramFraming } from '../types.js';
import { CannelloniDecoder } from '../cannelloni/codec.js';

export const CANNELLONI_UDP_VERSION = 2;
export const OP_DATA = 0;
export const HEADER_BYTES = 5;
/** What one datagram may carry toward a stock peer on a 1500-byte link over IPv6 (the smaller of v4/v6). */
export const DEFAULT_MAX_DATAGRAM = 1500 - 40 - 8;
/**
 * Largest datagram we accept: a jumbo link MTU (cannelloni's `-m`). More can only be garbage,
 * and real cannelloni would cut it at its MTU anyway.
 */
export const MAX_ACCEPTED_DATAGRAM = 9000;

export const cannelloniFraming: DatagramFraming = {
  headerBytes: HEADER_BYTES,
  maxDatagramBytes: DEFAULT_MAX_DATAGRAM,
  writeHeader(out, frames, seq) {
    out[0] = CANNELLONI_UDP_VERSION;
    out[1] = OP_DATA;
    out[2] = seq & 0xff;
    out[3] = (frames >>> 8) & 0xff;
    out[4] = frames & 0xff;
  },
};

/** Encodes a whole datagram (tests and tools; the server packs datagrams from its ring). */
export function encodeDatagram(encodedFrames: readonly Uint8Array[], seq: number): Uint8Array {
  const size = encodedFrames.reduce((n, f) => n + f.length, HEADER_BYTES);
  const out = new Uint8Array(size);
  cannelloniFraming.writeHeader(out, encodedFrames.length, seq);
  let p = HEADER_BYTES;
  for (const f of encodedFrames) {
    out.set(f, p);
    p += f.length;
  }
  return out;
}

export type DatagramProblem = 'truncated' | 'oversized' | 'version' | 'op_code' | 'count_mismatch' | 'classic_len' | 'fd_len' | 'fd_flags' | 'rtr_fd';

export type DecodedDatagram = { ok: true; seq: number; frames: CanFrame[] } | { ok: false; problem: DatagramProblem; detail: string };

/**
 * Decodes one datagram whole or not at all: a datagram whose count disagrees with its bytes
 * (fewer frames, bytes left over, a frame cut at the end) is refused entirely, never half
 * delivered. An empty DATA datagram (count 0) is valid and carries nothing, as in cannelloni.
 */
export function decodeDatagram(d: Uint8Array): DecodedDatagram {
  if (d.length < HEADER_BYTES) return { ok: false, problem: 'truncated', detail: `${d.length} bytes, shorter than the 5-byte header` };
  if (d.length > MAX_ACCEPTED_DATAGRAM) return { ok: false, problem: 'oversized', detail: `${d.length} bytes, more than ${MAX_ACCEPTED_DATAGRAM}` };
  if (d[0] !== CANNELLONI_UDP_VERSION) return { ok: false, problem: 'version', detail: `version ${d[0]}, expected ${CANNELLONI_UDP_VERSION}` };
  if (d[1] !== OP_DATA) return { ok: false, problem: 'op_code', detail: `op code ${d[1]}, only DATA (0) carries frames` };
  const count = (d[3] << 8) | d[4];
  const frames: CanFrame[] = [];
  const decoder = new CannelloniDecoder((f) => frames.push(f));
  const err = decoder.push(d.subarray(HEADER_BYTES));
  if (err) return { ok: false, problem: err.code, detail: err.message };
  if (decoder.pending > 0 || frames.length < count) {
    return {
      ok: false,
      problem: 'count_mismatch',
      detail: `header says ${count} frames, the datagram holds ${frames.length}${decoder.pending > 0 ? ` and ${decoder.pending} bytes of a cut one` : ''}`,
    };
  }
  if (frames.length > count) return { ok: false, problem: 'count_mismatch', detail: `header says ${count} frames, the datagram holds ${frames.length}` };
  return { ok: true, seq: d[2], frames };
}
