import { describe, expect, it } from 'vitest';
import { backendSeverity, busLoadSeverity, busSeverity, busStateSeverity, formatBitrate, sumValues } from '../../../src/control/present.js';
import { fakeBus } from '../../support/fake-snapshot.js';

describe('present: the judgements status and top share', () => {
  it('bus states: error-active ok, warning/passive warn, off/down/absent error, unknown muted (no state reported is not a fault)', () => {
    expect(busStateSeverity('error-active')).toBe('ok');
    expect(busStateSeverity('error-warning')).toBe('warn');
    expect(busStateSeverity('error-passive')).toBe('warn');
    for (const s of ['bus-off', 'stopped', 'down', 'absent'] as const) expect(busStateSeverity(s)).toBe('error');
    expect(busStateSeverity('unknown')).toBe('muted');
  });

  it('backend states and load thresholds (70 % warn, 90 % error); a bus is as bad as its worst part', () => {
    expect([backendSeverity('open'), backendSeverity('opening'), backendSeverity('absent'), backendSeverity('closed')]).toEqual([
      'ok',
      'warn',
      'error',
      'error',
    ]);
    expect([busLoadSeverity(69.9), busLoadSeverity(70), busLoadSeverity(90)]).toEqual(['ok', 'warn', 'error']);
    expect(busSeverity(fakeBus({ busLoad: 75 }))).toBe('warn');
    expect(busSeverity(fakeBus({ busLoad: 10, backendState: 'absent' }))).toBe('error');
    expect(busSeverity(fakeBus({ busLoad: 10, busState: 'unknown' }))).toBe('ok');
  });

  it('one bitrate format', () => {
    expect([formatBitrate(50_000), formatBitrate(125_000), formatBitrate(1_000_000), formatBitrate(500), formatBitrate(null)]).toEqual([
      '50 kbit/s',
      '125 kbit/s',
      '1 Mbit/s',
      '500 bit/s',
      '?',
    ]);
    expect(sumValues({ a: 1, b: 2, c: Number.NaN })).toBe(3);
  });
});
