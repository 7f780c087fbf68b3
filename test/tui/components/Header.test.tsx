import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { Header } from '../../../tui/components/Header.js';
import { formatClock } from '../../../tui/format.js';
import type { ConnectionView } from '../../../tui/view.js';
import { makeSnapshot, T0 } from '../fixtures.js';

const live: ConnectionView = { phase: 'live', socketPath: '/run/ampio-bridge/control.sock', attempt: 1, retryInMs: null, reason: null, detail: null };

describe('Header', () => {
  it('shows name, version, host, uptime, backend, listen, mDNS and the live state with the clock', () => {
    const { lastFrame } = render(<Header snapshot={makeSnapshot()} connection={live} paused={false} width={100} />);
    const [l1, l2] = plain(lastFrame()!).split('\n');
    expect(l1).toContain('ampio-bridge 0.1.0 (abcdef1) · pi-hall · pid 4242 · up 2h 03m');
    expect(l1).toMatch(new RegExp(`● live  ${formatClock(T0)}$`));
    expect(l1.length).toBe(100); // the clock sits at the right edge
    expect(l2).toContain('backend socketcan · listen 0.0.0.0:20000 · mDNS ampio-bridge-pi-hall');
    expect(l2).not.toContain('metrics'); // off: not worth a place
    expect(lastFrame()).toContain('\u001B[32m'); // live is green
  });

  it('says paused, and shows the metrics address when there is one', () => {
    const s = makeSnapshot();
    s.daemon.metricsAddr = '127.0.0.1:9100';
    const frame = plain(render(<Header snapshot={s} connection={live} paused width={120} />).lastFrame()!);
    expect(frame).toContain('⏸ paused');
    expect(frame).toContain('metrics 127.0.0.1:9100');
  });

  it('without a snapshot: names the socket and the waiting state in red', () => {
    const waiting: ConnectionView = { ...live, phase: 'waiting', reason: 'not_running', retryInMs: 1000, attempt: 3, detail: 'not running' };
    const { lastFrame } = render(<Header snapshot={null} connection={waiting} paused={false} width={80} />);
    const frame = plain(lastFrame()!);
    expect(frame).toContain('ampio-bridge top');
    expect(frame).toContain('✖ waiting');
    expect(frame).toContain('control socket /run/ampio-bridge/control.sock');
    expect(lastFrame()).toContain('\u001B[31m');
  });

  it('fits 80 columns: every line at most 80 wide, state still visible', () => {
    const s = makeSnapshot();
    s.daemon.listen = ['0.0.0.0:20000', '0.0.0.0:20001'];
    s.daemon.hostname = 'a-very-long-hostname-for-a-raspberry-pi-in-the-cellar';
    const lines = plain(render(<Header snapshot={s} connection={live} paused={false} width={80} />).lastFrame()!).split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toContain('● live');
  });
});
