import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { Sparkline } from '../../../tui/components/Sparkline.js';

describe('Sparkline', () => {
  it('renders the samples on the given scale in the severity colour', () => {
    const frame = render(<Sparkline values={[0, 50, 100]} width={5} max={100} severity="warn" />).lastFrame()!;
    expect(frame).toBe('\u001B[33m   ▄█\u001B[39m');
  });

  it('empty history is blank, not a crash', () => {
    expect(render(<Sparkline values={[]} width={4} />).lastFrame()).toContain('    ');
  });
});
