import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { BusPanel } from '../../../tui/components/BusPanel.js';
import { ThemeContext } from '../../../tui/hooks/use-theme.js';
import { NO_COLOR_THEME } from '../../../tui/theme.js';
import { makeBus, T0 } from '../fixtures.js';

const RED = '\u001B[31m';
const YELLOW = '\u001B[33m';
const GREEN = '\u001B[32m';

describe('BusPanel', () => {
  it('healthy bus: three lines with state, bitrate, load, sparkline and counters', () => {
    const { lastFrame } = render(<BusPanel bus={makeBus()} now={T0} width={100} />);
    const lines = plain(lastFrame()!).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('● can0  socketcan  backend open  bus error-active 1h 02m  50 kbit/s  0.0.0.0:20000  2 clients');
    expect(lines[1]).toMatch(/^ {2}load {2}42\.5% [▁▂▃▄▅▆▇█]{60} {2}peak 48% · scale 50%$/);
    expect(lines[2]).toBe('  rx 250/s 1.23M  tx 3/s 4321  errors 0  txq 0  stale 0');
    expect(lastFrame()).toContain(GREEN);
    expect(lastFrame()).not.toContain(RED);
  });

  it('frames the kernel dropped are shown (only when there are any)', () => {
    const lost = plain(render(<BusPanel bus={makeBus({ rxKernelDrops: 1234 })} now={T0} width={200} />).lastFrame()!);
    expect(lost).toMatch(/rx lost in kernel 1[,.\s]?234/);
    const none = plain(render(<BusPanel bus={makeBus({ rxKernelDrops: 0 })} now={T0} width={200} />).lastFrame()!);
    expect(none).not.toContain('lost in kernel');
  });

  it('frames read too late for clients are shown (only when there are any)', () => {
    const late = plain(render(<BusPanel bus={makeBus({ rxReadLate: 56 })} now={T0} width={200} />).lastFrame()!);
    expect(late).toContain('rx read late 56');
    const none = plain(render(<BusPanel bus={makeBus({ rxReadLate: 0 })} now={T0} width={200} />).lastFrame()!);
    expect(none).not.toContain('read late');
  });

  it('colours by severity: error-passive is yellow, bus-off and absent are red', () => {
    const passive = render(<BusPanel bus={makeBus({ busState: 'error-passive' })} now={T0} width={100} />).lastFrame()!;
    expect(passive).toContain(`${YELLOW}error-passive`);
    const off = render(<BusPanel bus={makeBus({ busState: 'bus-off' })} now={T0} width={100} />).lastFrame()!;
    expect(off).toMatch(new RegExp(`${RED.replace('[', '\\[')}(\\u001B\\[1m)?bus-off`));
    expect(plain(off)).toMatch(/^✖ can0/);
    const absent = render(
      <BusPanel bus={makeBus({ backendState: 'absent', busState: 'absent', lastRxAgeSec: 42 })} now={T0} width={100} />,
    ).lastFrame()!;
    expect(plain(absent)).toContain('backend absent  bus absent');
    expect(plain(absent)).toContain('quiet 42s');
  });

  it('high load turns the load figure and sparkline yellow, then red', () => {
    const warm = render(<BusPanel bus={makeBus({ busLoad: 75 })} now={T0} width={100} />).lastFrame()!;
    expect(warm).toMatch(/\u001B\[33m\s*75%/);
    const hot = render(<BusPanel bus={makeBus({ busLoad: 97, busLoadHistory: [90, 97] })} now={T0} width={100} />).lastFrame()!;
    expect(hot).toMatch(/\u001B\[31m(\u001B\[1m)?\s*97%/);
    expect(plain(hot)).toContain('scale 100%');
  });

  it('shows error counter breakdown, stale drops, refused TX frames and reopens', () => {
    const bus = makeBus({
      errorFrames: 12,
      errorCounters: { errorPassive: 3, busOff: 1, restarted: 0 },
      staleDrops: 4,
      txQueueDepth: 7,
      txDrops: { stale: 4, queue_full: 2 },
      reopens: 2,
    });
    const text = plain(render(<BusPanel bus={bus} now={T0} width={140} />).lastFrame()!);
    expect(text).toContain('errors 12 (errorPassive 3 busOff 1)  txq 7  stale 4  tx dropped 6');
    expect(text).toContain('reopened 2×');
  });

  it('a bus with no history yet, no bitrate and FD', () => {
    const text = plain(
      render(<BusPanel bus={makeBus({ busLoadHistory: [], busLoad: 0, bitrate: null, fd: true, rxFps: 0, lastRxAgeSec: null })} now={T0} width={100} />).lastFrame()!,
    );
    expect(text).toContain('bitrate ? FD');
    expect(text).toContain('load     0%');
    expect(text).toContain('rx 0/s');
  });

  it('80 columns: no line wider than 80, labels and backend name (in the header) left out, wildcard host dropped', () => {
    const lines = plain(render(<BusPanel bus={makeBus()} now={T0} width={80} />).lastFrame()!).split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toBe('● can0  open  error-active 1h 02m  50 kbit/s  :20000  2 clients');
    expect(lines[1]).toContain('peak 48%');
  });

  it('NO_COLOR: no colour codes, state still readable from glyph and words', () => {
    const { lastFrame } = render(
      <ThemeContext.Provider value={NO_COLOR_THEME}>
        <BusPanel bus={makeBus({ busState: 'bus-off' })} now={T0} width={100} />
      </ThemeContext.Provider>,
    );
    expect(lastFrame()).not.toMatch(/\u001B\[3\dm/);
    expect(plain(lastFrame()!)).toContain('✖ can0');
    expect(plain(lastFrame()!)).toContain('bus-off');
  });
});
