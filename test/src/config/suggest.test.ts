import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, typoDistance } from '../../../src/config/suggest.js';

describe('typoDistance', () => {
  it('known values: one per insert, delete or substitution', () => {
    expect(typoDistance('serv', 'serve')).toBe(1);
    expect(typoDistance('kitten', 'sitting')).toBe(3);
    expect(typoDistance('', 'abc')).toBe(3);
  });

  it('is symmetric and zero only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(typoDistance(a, b)).toBe(typoDistance(b, a));
        expect(typoDistance(a, b) === 0).toBe(a === b);
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
