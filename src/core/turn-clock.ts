// A monotonic clock read at most once per event-loop turn, like libuv's own loop time
// (uv_now): the first read in a turn asks the system, later reads in the same turn get the
// same value, and the cache is forgotten when the turn's microtasks run.
//
// Why: the frame path reads the clock several times per frame (rate meter, bus load, the
// hub's frame time, ring ages, write ledger). On a host whose clock source has no vDSO
// fast path (virtual machines without a stable TSC are common) each read is a system call;
// in the CAN VM that was four syscalls per frame, a visible share of the bridge's CPU. The
// frames of one read batch arrive together anyway, and everything that uses this clock
// works in milliseconds. Not for measuring how long synchronous work takes (that reads 0).
import { atTurnEnd } from './microtask.js';

export function turnClock(read: () => number = () => performance.now()): () => number {
  let cached = -1;
  const forget = (): void => {
    cached = -1;
  };
  return () => {
    if (cached < 0) {
      cached = read();
      atTurnEnd(forget);
    }
    return cached;
  };
}
