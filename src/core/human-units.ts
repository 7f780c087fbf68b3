// Sizes and ages for people, one convention everywhere (status, top, capture, doctor):
// sizes in binary units labelled as such (KiB, MiB, GiB: the arithmetic is 1024-based, so
// the label says so), ages in the largest unit that keeps them readable.

/** "1.50" → "1.5", "2.0" → "2" */
export function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** 512 B, 1.5 KiB, 44 MiB, 1.2 GiB */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${trimZeros(v.toFixed(v >= 100 ? 0 : 1))} ${units[i]}`;
}

/** 3 s, 14 min, 5.2 h, 6.9 d */
export function formatAgeMs(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
