// When each replayed frame is due: the recorded spacing divided by the speed, measured from
// the first frame. Waiting sleeps on a timer until about a millisecond before, then yields
// turn by turn (setImmediate lets sockets and timers run) to land within a fraction of a
// millisecond without holding the event loop.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export type ReplaySpeed = number | 'max';

/** `1`, `2`, `0.5`, `max` → the speed; throws on anything else. */
export function parseSpeed(raw: string): ReplaySpeed {
  const text = raw
    .trim()
    .toLowerCase()
    .replace(/^([\d.]+)x$/, '$1'); // "2x" = 2
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || text === '') throw new Error(`--speed "${raw}" is not 1, a factor like 2 or 0.5, or max`);
  return n;
}

export class ReplayClock {
  private firstUs: number | null = null;
  private startMs = 0;

  constructor(
    private readonly speed: ReplaySpeed,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** ms (on `now`'s clock) when the frame stamped `tsUs` is due; 0 at max speed. */
  due(tsUs: number): number {
    if (this.speed === 'max') return 0;
    if (this.firstUs === null) {
      this.firstUs = tsUs;
      this.startMs = this.now();
    }
    return this.startMs + Math.max(0, tsUs - this.firstUs) / 1000 / this.speed;
  }

  async waitFor(tsUs: number): Promise<void> {
    const due = this.due(tsUs);
    let left = due - this.now();
    if (left > 2) await sleep(left - 1.5);
    left = due - this.now();
    while (left > 0) {
      await nextTurn();
      left = due - this.now();
    }
  }
}
