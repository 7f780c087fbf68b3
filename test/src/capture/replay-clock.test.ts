// The replay's schedule: recorded spacing divided by the speed, from the first frame.
import { expect, it } from 'vitest';
import { parseSpeed, ReplayClock } from '../../../src/capture/replay-clock.js';

it('parses 1, factors, "2x" and max; refuses the rest', () => {
  expect(parseSpeed('1')).toBe(1);
  expect(parseSpeed('2x')).toBe(2);
  expect(parseSpeed('0.5')).toBe(0.5);
  expect(parseSpeed('MAX')).toBe('max');
  for (const bad of ['0', '-1', 'fast', '', 'x']) expect(() => parseSpeed(bad)).toThrow(/--speed/);
});

it('keeps the recorded spacing at 1x, divides it by the speed, and is due at once at max', () => {
  let now = 1000;
  const at1 = new ReplayClock(1, () => now);
  expect(at1.due(5_000_000)).toBe(1000);
  now = 1003; // a late start of the second frame changes nothing: due times come from the first
  expect(at1.due(5_002_500)).toBe(1002.5);
  const at4 = new ReplayClock(4, () => 0);
  at4.due(0);
  expect(at4.due(8000)).toBe(2);
  expect(new ReplayClock('max', () => 0).due(123_456_789)).toBe(0);
});
