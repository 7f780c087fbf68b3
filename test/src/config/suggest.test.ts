import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance, typoDistance } from '../../../src/config/suggest.js';

describe('editDistance', () => {
  it('known values', () => {
    expect(editDistance('serv', 'serve')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is a metric: symmetric, zero only for equal strings, triangle inequality', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b, c) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
      }),
    );
  });
});

describe('closest', () => {
  const flags = ['backend', 'listen', 'hub-buffer', 'hub-policy', 'metrics-addr'];
  it.each([
    ['hub-bufer', 'hub-buffer'],
    ['hub', 'hub-buffer'],
    ['policy', 'hub-policy'],
    ['lsten', 'listen'],
    ['metrics', 'metrics-addr'],
    ['BACKEND', 'backend'],
  ])('%s → %s', (input, expected) => {
    expect(closest(input, flags)).toBe(expected);
  });

  it('suggests nothing that is not close', () => {
    expect(closest('x', [])).toBeUndefined();
    expect(closest('zzzzzz', flags)).toBeUndefined();
    expect(closest('bogus', ['baud', 'backend'])).toBeUndefined();
    expect(closest('config', ['can-if', 'echo', 'baud'])).toBeUndefined();
    expect(closest('x', ['json', 'help'])).toBeUndefined();
  });

  it('a swapped pair of letters is one typo', () => {
    expect(typoDistance('jsno', 'json')).toBe(1);
    expect(closest('jsno', ['json', 'help'])).toBe('json');
    expect(closest('verison', ['help', 'version'])).toBe('version');
  });
});
