import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { EventLog } from '../../../tui/components/EventLog.js';
import { formatClock, type LogEntry } from '../../../tui/format.js';
import { T0 } from '../fixtures.js';

const entry = (i: number, over: Partial<LogEntry> = {}): LogEntry => ({ time: T0 + i * 1000, text: `event ${i}`, severity: 'info', ...over });

describe('EventLog', () => {
  it('shows entries with their time, oldest first', () => {
    const frame = plain(render(<EventLog entries={[entry(1), entry(2)]} rows={4} width={80} />).lastFrame()!);
    // The log keeps its height (the layout below it must not jump): blank lines fill it.
    expect(frame.split('\n')).toHaveLength(5);
    expect(frame.trimEnd().split('\n')).toEqual(['EVENTS', `  ${formatClock(T0 + 1000)}  event 1`, `  ${formatClock(T0 + 2000)}  event 2`]);
  });

  it('keeps the newest when there are more than rows, and says so', () => {
    const entries = Array.from({ length: 10 }, (_, i) => entry(i));
    const frame = plain(render(<EventLog entries={entries} rows={3} width={80} />).lastFrame()!);
    expect(frame.split('\n')[0]).toBe('EVENTS  last 3 of 10');
    expect(frame).toContain('event 9');
    expect(frame).toContain('event 7');
    expect(frame).not.toContain('event 6');
  });

  it('colours by severity', () => {
    const frame = render(
      <EventLog entries={[entry(1, { severity: 'error', text: 'can0 went bus-off' }), entry(2, { severity: 'ok', text: 'reopened' })]} rows={3} width={80} />,
    ).lastFrame()!;
    expect(frame).toMatch(/\u001B\[31m(\u001B\[1m)?can0 went bus-off/);
    expect(frame).toMatch(/\u001B\[32mreopened/);
  });

  it('empty state', () => {
    expect(plain(render(<EventLog entries={[]} rows={3} width={80} />).lastFrame()!).trimEnd()).toBe('EVENTS\n  no events yet');
  });

  it('long lines are cut, not wrapped, at 80 columns', () => {
    const frame = plain(render(<EventLog entries={[entry(1, { text: 'x'.repeat(200) })]} rows={2} width={80} />).lastFrame()!);
    expect(frame.split('\n')).toHaveLength(3);
    expect(frame.split('\n')[1].length).toBeLessThanOrEqual(80);
  });
});
