// A small line-based unified diff (LCS), enough for the few-hundred-line files setup
// touches. Pure; colour is applied by the caller.

export type DiffLine = { op: ' ' | '-' | '+'; text: string };

function lines(text: string | null): string[] {
  if (text === null || text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

export function diffLines(before: string | null, after: string | null): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  const n = a.length;
  const m = b.length;
  // LCS table from the end; files here are small (config.txt ≈ 100 lines).
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) out.push({ op: '-', text: a[i++] });
    else out.push({ op: '+', text: b[j++] });
  }
  while (i < n) out.push({ op: '-', text: a[i++] });
  while (j < m) out.push({ op: '+', text: b[j++] });
  // A missing final newline is a change too (pimoroni/hyperpixel4 PR #11): show it.
  if (before !== null && before !== '' && !before.endsWith('\n') && after?.endsWith('\n')) {
    out.push({ op: '+', text: '\\ (newline added at the end of the old last line)' });
  }
  return out;
}

export interface Hunk {
  aStart: number;
  aLen: number;
  bStart: number;
  bLen: number;
  lines: DiffLine[];
}

export function hunks(diff: DiffLine[], context = 3): Hunk[] {
  const changed = diff.map((d, k) => (d.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (!changed.length) return [];
  const ranges: [number, number][] = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(diff.length - 1, k + context);
    const last = ranges[ranges.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else ranges.push([lo, hi]);
  }
  const out: Hunk[] = [];
  for (const [lo, hi] of ranges) {
    let aStart = 1;
    let bStart = 1;
    for (let k = 0; k < lo; k++) {
      if (diff[k].op !== '+') aStart++;
      if (diff[k].op !== '-') bStart++;
    }
    const ls = diff.slice(lo, hi + 1);
    out.push({ aStart, bStart, aLen: ls.filter((d) => d.op !== '+').length, bLen: ls.filter((d) => d.op !== '-').length, lines: ls });
  }
  return out;
}

/** Unified diff text; `paint` colours a line by its op (identity for no colour). */
export function unifiedDiff(
  path: string,
  before: string | null,
  after: string | null,
  paint: (op: DiffLine['op'] | '@', text: string) => string = (_, t) => t,
): string {
  const hs = hunks(diffLines(before, after));
  if (!hs.length) return '';
  const out = [paint('-', `--- ${before === null ? '/dev/null' : `a${path}`}`), paint('+', `+++ ${after === null ? '/dev/null' : `b${path}`}`)];
  for (const h of hs) {
    out.push(paint('@', `@@ -${h.aStart},${h.aLen} +${h.bStart},${h.bLen} @@`));
    for (const l of h.lines) out.push(paint(l.op, `${l.op}${l.text}`));
  }
  return out.join('\n');
}
