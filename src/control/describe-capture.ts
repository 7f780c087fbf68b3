// Capture and forwarding in words, for `status`, `top`, doctor and the web page (pure).
import { formatAgeMs, formatBytes } from '../core/human-units.js';
import type { CaptureProblem, CaptureSnapshot } from './protocol.js';

// ---------------------------------------------------------------- capture, for people

/** The reason in a few words (status line, top). */
const PROBLEM_WORDS: Record<CaptureProblem['reason'], string> = {
  corrupt: 'store damaged',
  foreign_file: 'not a capture store',
  newer_schema: 'store of a newer version',
  unwritable: 'cannot open the store',
  not_found: 'no store',
  sqlite_missing: 'SQLite module missing',
  sqlite_broken: 'SQLite module broken',
  disk_full: 'disk full',
  io_error: 'I/O errors',
  write_failed: 'writes fail',
  worker_failed: 'worker failed',
};

/**
 * One or two lines about capture for `status` and `top`:
 *   capture on · 1,234,567 frames · 44.1 MB · oldest 6.9 d ago · 0 dropped · /var/lib/…/capture.db
 *   → PostgreSQL connected · backlog 0 rows · lag 0 s · 1,234,000 sent · postgres://u@db/x#can_frames
 * `warn` marks lines that deserve attention (drops, failure, backing off, lost frames).
 */
export function describeCapture(c: CaptureSnapshot | undefined, now: number, opts: { compact?: boolean } = {}): Array<{ text: string; warn: boolean }> {
  if (!c) return [{ text: 'capture off', warn: false }];
  const age = c.oldestFrame === null ? null : formatAgeMs(Math.max(0, now - c.oldestFrame));
  const oldest = age === null ? 'empty' : opts.compact ? `${age} kept` : `oldest ${age} ago`;
  const p = c.problem ?? null;
  // Capture that failed is off: say so first, the figures are those of the last good reading.
  const state =
    c.state === 'failed'
      ? `off (${p ? PROBLEM_WORDS[p.reason] : 'failed'})`
      : c.state === 'on' && p
        ? `on, not recording (${PROBLEM_WORDS[p.reason]})`
        : c.state;
  const lines = [
    {
      // top's one line: the reason and the next step before any figure.
      text:
        opts.compact && p
          ? `capture ${state}`
          : `capture ${state} · ${c.rows.toLocaleString('en-US')} frames · ${formatBytes(c.bytes)} · ${oldest}${opts.compact && c.dropped === 0 ? '' : ` · ${c.dropped} dropped`}${opts.compact ? '' : ` · ${c.path}`}`,
      warn: c.state !== 'on' || c.dropped > 0 || p !== null,
    },
  ];
  if (p) {
    if (opts.compact) lines.push({ text: `! ${p.reason === 'corrupt' ? 'run: ampio-bridge capture recover' : p.hint}`, warn: true });
    else lines.push({ text: `! ${p.message}`, warn: true }, { text: `  → ${p.hint}`, warn: true });
  }
  const f = c.forward;
  if (f) {
    const state = f.state === 'backing_off' ? `backing off${f.lastError ? ` (${f.lastError})` : ''}` : f.state;
    lines.push({
      text: `→ ${opts.compact ? 'PG' : 'PostgreSQL'} ${state} · backlog ${f.backlogRows.toLocaleString('en-US')} rows · lag ${formatAgeMs(f.lagSeconds * 1000)} · ${f.rowsTotal.toLocaleString('en-US')} sent${f.lostTotal > 0 ? ` · ${f.lostTotal} lost` : ''}${opts.compact ? '' : ` · ${f.target ?? ''}`}`,
      warn: f.state !== 'connected' || f.lostTotal > 0,
    });
  }
  return lines;
}
