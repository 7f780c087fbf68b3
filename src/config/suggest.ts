// "did you mean …?" for unknown flags, commands, config keys and env vars. Pure.

/** Levenshtein edit distance (insert, delete, substitute; each costs 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `input`. A candidate that starts with the input ("--hub" →
 * "hub-buffer") or contains it wins over pure edit distance, since that is what people
 * type when they half-remember a name. Ties keep the table order. Always returns one
 * candidate when there are any: the callers' error lines name "the closest valid one".
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const hay = c.toLowerCase();
    let score = editDistance(needle, hay);
    if (needle.length >= 3 && hay.startsWith(needle)) score = Math.min(score, 0.5);
    else if (needle.length >= 3 && hay.includes(needle)) score = Math.min(score, 1);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
