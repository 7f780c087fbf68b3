// Bytes as hex for log fields (a bad hello, a malformed header): bounded, so a flood of
// garbage cannot make a log line huge.
export function toHex(bytes: Uint8Array, max = 32): string {
  const shown = bytes.subarray(0, max);
  let s = '';
  for (const b of shown) s += b.toString(16).padStart(2, '0');
  return bytes.length > max ? `${s}…` : s;
}
