// The option helpers derive what they say from what they check, and the parsers agree with
// their formatters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  durationOption,
  enumOption,
  formatDuration,
  formatListen,
  intOption,
  listenOption,
  optionalListenOption,
  parseDuration,
  parseListen,
} from '../../../src/options/parsers.js';
import { OPTION_NAMES, OPTIONS } from '../../../src/config/options.js';

const base = { flag: 'x', help: 'h', group: 'hub', scope: 'reloadable' } as const;

describe('option helpers', () => {
  it('intOption: the accepted form names the same range the parser enforces', () => {
    const o = intOption(1, 4096, { ...base, default: 64, unit: 'frames' });
    expect(o.expected).toBe('frames, 1..4096');
    expect(o.parse('4096')).toBe(4096);
    expect(() => o.parse('4097')).toThrow('outside 1..4096');
    expect(intOption(0, 9, { ...base, default: 0, zero: 'unlimited' }).expected).toBe('a whole number 0..9, 0 = unlimited');
  });

  it('enumOption: choices and expected come from the values', () => {
    const o = enumOption(['drop', 'kick'] as const, { ...base, default: 'drop' });
    expect(o.choices).toEqual(['drop', 'kick']);
    expect(o.expected).toBe('drop or kick');
    expect(o.parse(' KICK ')).toBe('kick');
    expect(() => o.parse('maybe')).toThrow('is not one of drop, kick');
  });

  it('durationOption: bounds, what 0 means, and the bare-number rule in the accepted form', () => {
    const o = durationOption({ ...base, default: 5, example: '5ms', max: 1000, zero: 'write at once' });
    expect(o.expected).toBe('a duration like 5ms (a bare number is seconds), at most 1s, 0 = write at once');
    expect(o.parse('0')).toBe(0);
    expect(o.parse('0.5')).toBe(500);
    expect(() => o.parse('5')).toThrow('must be at most 1s (a bare number is seconds: write 5ms for milliseconds)');
    expect(o.format?.(1000)).toBe('1s');
    const positive = durationOption({ ...base, default: 3000, example: '3s' });
    expect(() => positive.parse('0')).toThrow('must be more than 0');
  });

  it('listeners: a required one refuses empty (even from env), an optional one is off for empty or off', () => {
    const required = listenOption({ ...base, default: { host: '', port: 1 }, example: '127.0.0.1:20000' });
    expect(required.emptyIsValue).toBe(true);
    expect(() => required.parse('')).toThrow('an address is required');
    const optional = optionalListenOption({ ...base, default: null, example: '127.0.0.1:9100' });
    expect(optional.defaultText).toBe('off');
    for (const off of ['', 'off', 'OFF', ' none ']) expect(optional.parse(off)).toBeNull();
    expect(() => optional.parse('9100')).toThrow('bare port');
  });

  it('every table entry: an enum has choices, the default formats back to something its own parser accepts', () => {
    for (const name of OPTION_NAMES) {
      const spec = OPTIONS[name] as (typeof OPTIONS)[typeof name] & { format?: (v: unknown) => string; parse(raw: string): unknown };
      if (spec.kind === 'enum') expect(spec.choices?.length, name).toBeGreaterThan(0);
      if (spec.default === null || (spec.kind === 'string' && spec.default === '') || (spec.kind === 'path' && spec.default === '')) continue;
      const text = spec.format ? spec.format(spec.default) : String(spec.default);
      expect(spec.parse(text), name).toEqual(spec.default);
    }
  });
});

describe('parsers', () => {
  it('durations: Go forms, bare numbers as seconds, and formatDuration round-trips', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500us')).toBe(0.5);
    expect(parseDuration('2')).toBe(2000);
    expect(() => parseDuration('2 s')).toThrow('is not a duration');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('listen addresses round-trip through formatListen', () => {
    for (const text of [':20000', '127.0.0.1:0', '[::1]:9100', 'localhost:20004']) expect(formatListen(parseListen(text))).toBe(text);
    expect(parseListen('[::]:1')).toEqual({ host: '::', port: 1 });
  });
});
