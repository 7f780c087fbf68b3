import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { renderToString } from 'ink';
import { stripVTControlCharacters as plain } from 'node:util';
import { Totals } from '../../../tui/components/Totals.js';

const zero = { active: 0, accepted: 0, rejected: 0, kicked: 0, handshakeFailures: 0, malformed: 0, hubDrops: 0 };

describe('Totals', () => {
  it('wide: full labels', () => {
    const t = { active: 3, accepted: 12, rejected: 1, kicked: 2, handshakeFailures: 4, malformed: 5, hubDrops: 12_345 };
    // Wider than ink-testing-library's 100-column terminal: render to a string instead.
    const frame = plain(renderToString(<Totals totals={t} width={130} />, { columns: 130 }));
    expect(frame).toBe(
      'TOTALS active 3 · accepted 12 · rejected (max clients) 1 · kicked 2 · handshake failures 4 · malformed 5 · hub drops 12.3k',
    );
  });

  it('80 columns: short labels, one line', () => {
    const frame = plain(render(<Totals totals={{ ...zero, active: 2, accepted: 9 }} width={80} />).lastFrame()!);
    expect(frame).toBe('TOTALS active 2  acc 9  rejected 0  kicked 0  hs-fail 0  malformed 0  drops 0');
    expect(frame.length).toBeLessThanOrEqual(80);
  });

  it('problem counters turn yellow only when non-zero', () => {
    const clean = render(<Totals totals={{ ...zero, accepted: 5 }} width={100} />).lastFrame()!;
    expect(clean).not.toContain('\u001B[33m');
    const bad = render(<Totals totals={{ ...zero, malformed: 1 }} width={100} />).lastFrame()!;
    expect(bad).toMatch(/malformed \u001B\[1m\u001B\[33m1|malformed \u001B\[33m\u001B\[1m1|malformed \u001B\[33m1/);
  });
});
