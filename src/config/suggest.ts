// "did you mean …?" for unknown flags, commands, config keys and env vars. Pure. The one
// edit-distance implementation of the project (provisioning and the CLI use it too).

/**
 * Edit distance where swapping two neighbouring letters costs 1 ("jsno" → "json"), the
 * typo people make most (optimal string alignment distance).
 */
export function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** How many typos a word of this length may hold and still count as "close": 1 per 3 letters. */
export function typoBudget(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

/**
 * The candidate closest to `input`, or undefined when none is close: a suggestion that is
 * not what the user meant ("--bogus" → "--baud"?) is noise. Close means: the candidate
 * starts with the input ("--hub" → "hub-buffer") or contains it (3+ letters), which is what
 * people type when they half-remember a name, or it is within the typo budget. Ties keep
 * the candidates' order.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  const budget = typoBudget(needle.length);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const hay = c.toLowerCase();
    let score = typoDistance(needle, hay);
    if (needle.length >= 3 && hay.startsWith(needle)) score = Math.min(score, 0.5);
    else if (needle.length >= 3 && hay.includes(needle)) score = Math.min(score, 1);
    if (score <= budget && score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
