// Waits, polling, until a condition holds: vi.waitFor underneath (one polling loop for every
// test), with a message that names what was awaited. vi.waitFor counts a callback that
// returns false as done, so the condition is turned into a throw here. An async condition
// (a control-socket snapshot) is asked again only after its last answer came back.
import { vi } from 'vitest';

export async function until(cond: () => boolean | Promise<boolean>, what = 'the condition', timeoutMs = 5000, intervalMs = 5): Promise<void> {
  const notYet = (holds: boolean): void => {
    if (!holds) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  };
  await vi.waitFor(
    () => {
      const holds = cond();
      return typeof holds === 'boolean' ? notYet(holds) : holds.then(notYet);
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
