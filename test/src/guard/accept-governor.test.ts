import { describe, expect, it } from 'vitest';
import { AcceptGovernor } from '../../../src/guard/accept-governor.js';

describe('AcceptGovernor', () => {
  it('pauses with growing backoff and logs at most once per interval with counts', () => {
    const g = new AcceptGovernor({ logIntervalMs: 10_000, initialPauseMs: 100, maxPauseMs: 400 });
    const a = g.failed('EMFILE', 0);
    expect(a.pauseMs).toBe(100);
    expect(a.report).toMatchObject({ code: 'EMFILE', failures: 1, refused: 0, first: true });
    expect(g.paused(50)).toBe(true);
    g.refused();
    g.refused();
    expect(g.paused(100)).toBe(false);
    const b = g.failed('EMFILE', 100);
    expect(b.pauseMs).toBe(200);
    expect(b.report).toBeNull();
    expect(g.failed('EMFILE', 300).pauseMs).toBe(400);
    expect(g.failed('EMFILE', 700).pauseMs).toBe(400);
    const later = g.failed('ENFILE', 10_000);
    expect(later.report).toMatchObject({ code: 'ENFILE', failures: 4, refused: 2, first: false });
    expect(g.failuresTotal).toBe(5);
    expect(g.exhausted).toBe(true);
  });

  it('recovery reports once and resets the backoff', () => {
    const g = new AcceptGovernor({ logIntervalMs: 10_000, initialPauseMs: 100, maxPauseMs: 400 });
    g.failed('EMFILE', 0);
    g.failed('EMFILE', 100);
    expect(g.recovered(600)).toBeNull(); // a failure 500 ms ago: not back yet
    expect(g.recovered(5000)).toEqual({ code: 'EMFILE', durationMs: 5000, failures: 1, refused: 0 });
    expect(g.recovered(6000)).toBeNull();
    expect(g.exhausted).toBe(false);
    const again = g.failed('EMFILE', 7000);
    expect(again.pauseMs).toBe(100);
    expect(again.report?.first).toBe(true);
    expect(g.episodes).toBe(2);
  });
});
