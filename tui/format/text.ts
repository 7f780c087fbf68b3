// Fitting text into columns, and the bus-load sparkline. Pure.

/** Cut to `width` columns with an ellipsis. Our strings are single-width (ASCII and box glyphs). */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `${text.slice(0, width - 1)}…`;
}

/** Keeps the end (ports, socket file names are the useful part). */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `…${text.slice(text.length - width + 1)}`;
}

/** `0.0.0.0:20000` → `:20000` on a narrow screen: the wildcard host says nothing. */
export function compactListen(listen: string): string {
  return listen.replace(/^(0\.0\.0\.0|::|\[::\])(?=:\d+$)/, '');
}

export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}

// ---------------------------------------------------------------- sparkline

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * The scale top for a bus-load sparkline: the next of 1, 2, 5, 10, 20, 50, 100 % above the
 * peak, so a quiet 50 kbit/s Ampio bus (2–5 %) still shows its shape, while the label says
 * the scale so nobody mistakes a 5 % bar for a full bus.
 */
export function sparkScale(values: readonly number[]): number {
  const peak = values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (peak <= step) return step;
  return Math.ceil(peak / 100) * 100;
}

/**
 * One cell per sample, newest at the right. With fewer samples than cells (just started)
 * the left is blank rather than stretched, so time runs at one cell per second.
 */
export function sparkline(values: readonly number[], width: number, max = sparkScale(values)): string {
  if (width <= 0) return '';
  const tail = values.slice(Math.max(0, values.length - width));
  let out = ' '.repeat(width - tail.length);
  for (const v of tail) {
    if (!Number.isFinite(v) || v <= 0) {
      out += ' ';
      continue;
    }
    const idx = Math.min(SPARK.length - 1, Math.max(0, Math.ceil((v / max) * SPARK.length) - 1));
    out += SPARK[idx];
  }
  return out;
}
