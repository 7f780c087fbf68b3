// Waits for a condition that socket data handlers make true: `until(cond)` resolves when a
// later `notify()` (or an immediate check) finds it true, and rejects after a timeout with
// what it was waiting for.
export class ConditionWaiter {
  private waiters: Array<() => void> = [];

  until(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`));
      }, timeoutMs);
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
