import { describe, expect, it } from 'vitest';
import { initialStatus, statusReducer } from '../../../tui/hooks/use-daemon-status.js';
import type { LogEntry } from '../../../tui/format.js';
import { advance, makeSnapshot, T0 } from '../fixtures.js';

const hello = { type: 'hello' as const, version: 1 as const, daemon: '0.1.0', pid: 4242 };
const e = (text: string): LogEntry => ({ time: T0, text, severity: 'info' });

describe('statusReducer', () => {
  it('connecting → connected → live on the first snapshot; keeps the previous snapshot for rates', () => {
    let s = initialStatus('/tmp/c.sock');
    expect(s.connection.phase).toBe('connecting');
    s = statusReducer(s, { type: 'connected', hello, events: [e('connected')] });
    expect(s.connection.phase).toBe('connecting');
    const s0 = makeSnapshot();
    s = statusReducer(s, { type: 'snapshot', snapshot: s0, events: [] });
    expect(s.connection.phase).toBe('live');
    expect(s.previous).toBeNull();
    const s1 = advance(s0);
    s = statusReducer(s, { type: 'snapshot', snapshot: s1, events: [e('a'), e('b')] });
    expect(s.previous).toBe(s0);
    expect(s.snapshot).toBe(s1);
    expect(s.events.map((x) => x.text)).toEqual(['connected', 'a', 'b']);
  });

  it('waiting keeps the log and says why; retries while waiting do not flash "connecting"', () => {
    let s = statusReducer(initialStatus('/tmp/c.sock'), { type: 'snapshot', snapshot: makeSnapshot(), events: [] });
    s = statusReducer(s, { type: 'waiting', attempt: 1, retryInMs: 250, reason: 'lost', detail: 'gone', events: [e('lost')] });
    expect(s.connection).toMatchObject({ phase: 'waiting', reason: 'lost', retryInMs: 250, attempt: 1 });
    expect(s.events.map((x) => x.text)).toEqual(['lost']);
    expect(statusReducer(s, { type: 'connecting', attempt: 2 })).toBe(s);
  });

  it('a reconnect forgets the old snapshots: rates never span a daemon restart', () => {
    let s = statusReducer(initialStatus('/tmp/c.sock'), { type: 'snapshot', snapshot: makeSnapshot(), events: [] });
    s = statusReducer(s, { type: 'snapshot', snapshot: advance(makeSnapshot()), events: [] });
    s = statusReducer(s, { type: 'connected', hello, events: [] });
    expect(s.snapshot).toBeNull();
    expect(s.previous).toBeNull();
  });

  it('bounds the event log to the newest maxEvents', () => {
    let s = initialStatus('/tmp/c.sock');
    const many = Array.from({ length: 30 }, (_, i) => e(`e${i}`));
    s = statusReducer(s, { type: 'snapshot', snapshot: makeSnapshot(), events: many }, 10);
    expect(s.events).toHaveLength(10);
    expect(s.events[0].text).toBe('e20');
    expect(s.events[9].text).toBe('e29');
  });
});
