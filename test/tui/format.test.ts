import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  busSeverity,
  clientHealth,
  clientRates,
  compactListen,
  eventToLogEntry,
  fit,
  formatAge,
  formatBitrate,
  formatBytes,
  formatClock,
  formatCount,
  formatCounters,
  formatPercent,
  formatRate,
  nextSortKey,
  SORT_KEYS,
  sortClients,
  sparkline,
  sparkScale,
  truncate,
  type SortKey,
  truncateStart,
} from '../../tui/format.js';
import { COLOR_THEME, NO_COLOR_THEME, severityStyle, themeFor } from '../../tui/theme.js';
import { advance, makeBus, makeClient, makeEvent, makeSnapshot, T0 } from './fixtures.js';

describe('numbers', () => {
  it('formatCount stays compact', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(9999)).toBe('9999');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatCount(999_999_999)).toBe('1000M');
    expect(formatCount(4_560_000_000)).toBe('4.56G');
    expect(formatCount(NaN)).toBe('–');
  });

  it('formatCount is never wider than 6 characters for counters up to 10^15', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e15 }), (n) => formatCount(n).length <= 6));
  });

  it('formatRate shows unknown as a dash and small rates with a decimal', () => {
    expect(formatRate(null)).toBe('–');
    expect(formatRate(undefined)).toBe('–');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.5)).toBe('0.5');
    expect(formatRate(2)).toBe('2');
    expect(formatRate(250)).toBe('250');
    expect(formatRate(21_300)).toBe('21.3k');
  });

  it('formatBitrate, formatPercent, formatBytes', () => {
    expect(formatBitrate(50_000)).toBe('50 kbit/s');
    expect(formatBitrate(125_000)).toBe('125 kbit/s');
    expect(formatBitrate(83_333)).toBe('83.3 kbit/s');
    expect(formatBitrate(1_000_000)).toBe('1 Mbit/s');
    expect(formatBitrate(null)).toBe('?');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(4.25)).toBe('4.3%');
    expect(formatPercent(42)).toBe('42%');
    expect(formatPercent(112.4)).toBe('112%');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(130_000)).toBe('127 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MiB');
  });
});

describe('time', () => {
  it('formatAge picks two units', () => {
    expect(formatAge(0)).toBe('0s');
    expect(formatAge(45.9)).toBe('45s');
    expect(formatAge(123)).toBe('2m 03s');
    expect(formatAge(3723)).toBe('1h 02m');
    expect(formatAge(5 * 86400 + 3 * 3600)).toBe('5d 03h');
    expect(formatAge(-1)).toBe('–');
  });

  it('formatClock is local HH:MM:SS', () => {
    const d = new Date(T0);
    const pad = (n: number) => String(n).padStart(2, '0');
    expect(formatClock(T0)).toBe(`${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
  });
});

describe('text', () => {
  it('truncate, truncateStart and fit respect the width exactly', () => {
    expect(truncate('192.168.100.200:50000', 10)).toBe('192.168.1…');
    expect(truncateStart('/run/ampio-bridge/control.sock', 14)).toBe('…/control.sock');
    expect(fit('12', 5, 'right')).toBe('   12');
    expect(fit('abc', 5)).toBe('abc  ');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.integer({ min: 0, max: 40 }), (s, w) => {
        expect(fit(s, w).length).toBe(w);
        expect(truncate(s, w).length).toBeLessThanOrEqual(w);
        expect(truncateStart(s, w).length).toBeLessThanOrEqual(w);
      }),
    );
  });

  it('compactListen drops only a wildcard host', () => {
    expect(compactListen('0.0.0.0:20000')).toBe(':20000');
    expect(compactListen('[::]:20001')).toBe(':20001');
    expect(compactListen('127.0.0.1:20000')).toBe('127.0.0.1:20000');
  });
});

describe('sparkline', () => {
  it('one cell per sample, newest right, blank for missing history', () => {
    expect(sparkline([0, 25, 50, 100], 6, 100)).toBe('   ▂▄█');
    expect(sparkline([10, 20], 2, 20)).toBe('▄█');
    expect(sparkline(Array(70).fill(100), 60, 100)).toBe('█'.repeat(60));
    expect(sparkline([5], 0)).toBe('');
  });

  it('always exactly `width` cells', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 200, noNaN: true })), fc.integer({ min: 0, max: 80 }), (values, w) => {
        expect([...sparkline(values, w)].length).toBe(w);
      }),
    );
  });

  it('sparkScale rounds the peak up to a readable step', () => {
    expect(sparkScale([])).toBe(1);
    expect(sparkScale([0.4, 3.2])).toBe(5);
    expect(sparkScale([42])).toBe(50);
    expect(sparkScale([93])).toBe(100);
    expect(sparkScale([130])).toBe(200);
  });
});

describe('severity', () => {
  it('a bus is as bad as its worst of backend, bus state and load', () => {
    expect(busSeverity(makeBus())).toBe('ok');
    expect(busSeverity(makeBus({ busState: 'error-passive' }))).toBe('warn');
    expect(busSeverity(makeBus({ busState: 'bus-off' }))).toBe('error');
    expect(busSeverity(makeBus({ backendState: 'absent', busState: 'absent' }))).toBe('error');
    expect(busSeverity(makeBus({ busLoad: 75 }))).toBe('warn');
    expect(busSeverity(makeBus({ busLoad: 95 }))).toBe('error');
    expect(busSeverity(makeBus({ backendState: 'opening' }))).toBe('warn');
  });

  it('client health: dropping since the last snapshot, or queue near its limit', () => {
    const c = makeClient(1);
    expect(clientHealth(c, c)).toBe('ok');
    expect(clientHealth({ ...c, drops: 5 }, { ...c, drops: 2 })).toBe('dropping');
    // Dropped once long ago, not now: not highlighted as dropping.
    expect(clientHealth({ ...c, drops: 5 }, { ...c, drops: 5 })).toBe('ok');
    expect(clientHealth({ ...c, queueDepth: 384 }, c)).toBe('near');
    expect(clientHealth({ ...c, queueDepth: 383 }, c)).toBe('ok');
    // No previous reading: a full queue with drops counts as dropping.
    expect(clientHealth({ ...c, drops: 1, queueDepth: 512 }, undefined)).toBe('dropping');
  });

  it('events map to severities and keep the daemon sentence', () => {
    expect(eventToLogEntry(makeEvent())).toEqual({ time: T0 - 5000, text: 'client #3 connected from 192.168.1.13:50003', severity: 'info' });
    expect(eventToLogEntry(makeEvent({ kind: 'client_kicked', message: 'x' })).severity).toBe('warn');
    expect(eventToLogEntry(makeEvent({ kind: 'bus_state', to: 'bus-off', message: 'x' })).severity).toBe('error');
    expect(eventToLogEntry(makeEvent({ kind: 'backend_reopened', message: 'x' })).severity).toBe('ok');
    expect(eventToLogEntry(makeEvent({ kind: 'backend_absent', bus: 'can0', remote: undefined, message: '' })).text).toBe('backend absent can0');
  });

  it('formatCounters lists non-zero counters, largest first', () => {
    expect(formatCounters({ busOff: 1, errorPassive: 3, restarted: 0 })).toBe('errorPassive 3 busOff 1');
    expect(formatCounters({})).toBe('');
    expect(formatCounters({ 'error-active': 2, errorActive: 1, busOff: 1 })).toBe('busOff 1');
  });
});

describe('rates and sorting', () => {
  it('computes frames/s per client between two snapshots', () => {
    const s0 = makeSnapshot();
    const s1 = advance(s0, 2000, 250, 2);
    const rates = clientRates(s0, s1);
    expect(rates.get(1)).toEqual({ outFps: 250, inFps: 2 });
    expect(clientRates(null, s1).size).toBe(0);
  });

  it('the same connection keeps its connectedAt (read once by the daemon); any other value is another client', () => {
    const s0 = makeSnapshot({ clients: [makeClient(1, { connectedAt: T0 - 5000 })] });
    const same = advance(makeSnapshot({ clients: [makeClient(1, { connectedAt: T0 - 5000 })] }));
    expect(clientRates(s0, same).get(1)).toEqual({ outFps: 250, inFps: 2 });
    const other = advance(makeSnapshot({ clients: [makeClient(1, { connectedAt: T0 - 4999 })] }));
    expect(clientRates(s0, other).has(1)).toBe(false);
  });

  it('gives no rate to a new client or a recycled id', () => {
    const s0 = makeSnapshot({ clients: [makeClient(1)] });
    const s1 = advance(makeSnapshot({ clients: [makeClient(1, { connectedAt: T0 + 500 }), makeClient(2)] }));
    const rates = clientRates(s0, s1);
    expect(rates.has(1)).toBe(false);
    expect(rates.has(2)).toBe(false);
  });

  it('sorts by each key, ties by id, and s cycles through all keys', () => {
    const clients = [
      makeClient(1, { drops: 5, queueDepth: 10, remote: '10.0.0.9:1' }),
      makeClient(2, { drops: 0, queueDepth: 300, remote: '10.0.0.10:1' }),
      makeClient(3, { drops: 5, queueDepth: 0, remote: '10.0.0.1:1' }),
    ];
    const rates = new Map([
      [1, { outFps: 10, inFps: 0 }],
      [2, { outFps: 300, inFps: 5 }],
    ]);
    const ids = (key: (typeof SORT_KEYS)[number], desc: boolean) => sortClients(clients, key, desc, rates).map((c) => c.id);
    expect(ids('id', false)).toEqual([1, 2, 3]);
    expect(ids('remote', false)).toEqual([3, 1, 2]); // numeric-aware: .9 before .10
    expect(ids('age', true)).toEqual([3, 2, 1]); // oldest connection first
    expect(ids('outFps', true)).toEqual([2, 1, 3]); // unknown rate last
    expect(ids('queue', true)).toEqual([2, 1, 3]);
    expect(ids('drops', true)).toEqual([1, 3, 2]);
    let k: SortKey = SORT_KEYS[0];
    const seen = new Set<string>();
    for (let i = 0; i < SORT_KEYS.length; i++) {
      seen.add(k);
      k = nextSortKey(k);
    }
    expect(seen.size).toBe(SORT_KEYS.length);
    expect(k).toBe(SORT_KEYS[0]);
  });
});

describe('theme', () => {
  it('NO_COLOR turns every colour off and keeps emphasis as bold/dim', () => {
    expect(themeFor({ NO_COLOR: '1' })).toBe(NO_COLOR_THEME);
    expect(themeFor({ NO_COLOR: '' })).toBe(COLOR_THEME);
    expect(themeFor({})).toBe(COLOR_THEME);
    expect(severityStyle(NO_COLOR_THEME, 'error')).toEqual({ bold: true });
    expect(severityStyle(NO_COLOR_THEME, 'muted')).toEqual({ dimColor: true });
    expect(severityStyle(NO_COLOR_THEME, 'ok')).toEqual({});
    expect(severityStyle(COLOR_THEME, 'warn')).toEqual({ color: 'yellow' });
    expect(severityStyle(COLOR_THEME, 'error')).toEqual({ color: 'red', bold: true });
  });
});
