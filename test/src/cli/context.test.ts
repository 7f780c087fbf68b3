import { describe, expect, it } from 'vitest';
import { type CliSignal, createProcessSignals } from '../../../src/cli/context.js';
import { createManualSignals } from '../../support/manual-signals.js';

describe('createProcessSignals', () => {
  it('fans one process listener out, and calls onRepeatedStop on the second stop signal', () => {
    const baseline = process.listenerCount('SIGTERM');
    const repeated: CliSignal[] = [];
    const signals = createProcessSignals((s) => repeated.push(s));
    const seen: string[] = [];
    const offA = signals.on('SIGTERM', (s) => seen.push(`a:${s}`));
    const offB = signals.on('SIGTERM', (s) => seen.push(`b:${s}`));
    const offHup = signals.on('SIGHUP', (s) => seen.push(`hup:${s}`));
    expect(process.listenerCount('SIGTERM')).toBe(baseline + 1);

    // process.emit runs the listeners only; no real signal is delivered to the test worker.
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGHUP', 'SIGHUP'); // reloads never count as a stop
    process.emit('SIGTERM', 'SIGTERM');
    expect(seen).toEqual(['hup:SIGHUP', 'hup:SIGHUP', 'a:SIGTERM', 'b:SIGTERM']);
    expect(repeated).toEqual([]);
    process.emit('SIGTERM', 'SIGTERM');
    expect(repeated).toEqual(['SIGTERM']);
    expect(seen).toHaveLength(4);

    offA();
    expect(process.listenerCount('SIGTERM')).toBe(baseline + 1);
    offB();
    offHup();
    expect(process.listenerCount('SIGTERM')).toBe(baseline);
  });
});

describe('signals and libraries', () => {
  it('subscribing leaves other signal listeners in place (no global removeAllListeners)', () => {
    const other = () => {};
    process.on('SIGHUP', other);
    const signals = createProcessSignals(() => {});
    const off = signals.on('SIGHUP', () => {});
    expect(process.listeners('SIGHUP')).toContain(other);
    off();
    process.off('SIGHUP', other);
  });

  it('loading serve (config, daemon and all it imports) hooks no process signal', async () => {
    const names = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const before = names.map((s) => process.listenerCount(s));
    await import('../../../src/cli/commands/serve.js');
    expect(names.map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('createManualSignals', () => {
  it('delivers to subscribers until they unsubscribe', () => {
    const signals = createManualSignals();
    const seen: string[] = [];
    const off = signals.on('SIGINT', (s) => seen.push(s));
    signals.emit('SIGINT');
    off();
    signals.emit('SIGINT');
    expect(seen).toEqual(['SIGINT']);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});
