
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { HelpOverlay } from '../../../tui/components/HelpOverlay.js';

describe('HelpOverlay', () => {
  it('lists every key and explains the row markers, inside a box of the given size', () => {
    const frame = plain(render(<HelpOverlay width={80} height={17} intervalMs={1000} />).lastFrame()!);
    const lines = frame.split('\n');
    expect(lines).toHaveLength(17);
    for (const l of lines) expect(l.length).toBe(80);
    expect(lines[0]).toMatch(/^╭─+╮$/);
    for (const key of ['q  Ctrl-C', '↑ ↓  j k', 'K ', 's  S', 'p ', '?  Esc']) expect(frame).toContain(key);
    expect(frame).toContain('kick the selected client (asks y to confirm)');
    expect(frame).toContain('!');
    expect(frame).toContain('queue ≥ 75% of its buffer');
    expect(frame).toContain('refresh every 1s');
  });
});
