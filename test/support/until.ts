// Waits, polling, until a condition holds: vi.waitFor underneath (one polling loop for every
// test), with a message that names what was awaited. vi.waitFor counts a callback that
// returns false as done, so the condition is turned into a throw here.
import { vi } from 'vitest';

export async function until(cond: () => boolean, what = 'the condition', timeoutMs = 5000, intervalMs = 5): Promise<void> {
  await vi.waitFor(
    () => {
      if (!cond()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
