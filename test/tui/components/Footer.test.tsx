import '../../support/force-color.js';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { ConfirmKick } from '../../../tui/components/ConfirmKick.js';
import { Footer } from '../../../tui/components/Footer.js';
import { makeClient, T0 } from '../fixtures.js';

describe('Footer', () => {
  it('lists the keys in 80 columns', () => {
    const frame = plain(render(<Footer width={80} paused={false} interactive message={null} />).lastFrame()!);
    expect(frame.trimEnd()).toBe('q quit  ↑↓ select  K kick  s sort  p pause  m modules  ? help');
  });

  it('paused: p resumes, PAUSED on the right', () => {
    const frame = plain(render(<Footer width={80} paused interactive message={null} />).lastFrame()!);
    expect(frame).toContain('p resume');
    expect(frame).toMatch(/PAUSED$/);
  });

  it('shows a message on the right in its severity colour', () => {
    const frame = render(<Footer width={100} paused={false} interactive message={{ text: 'kicked client #3', severity: 'ok' }} />).lastFrame()!;
    expect(plain(frame)).toMatch(/kicked client #3$/);
    expect(frame).toContain('\u001B[32mkicked client #3');
  });

  it('not interactive (--once): no keys', () => {
    const frame = plain(render(<Footer width={80} paused={false} interactive={false} message={null} />).lastFrame()!);
    expect(frame).not.toContain('quit');
  });
});

describe('ConfirmKick', () => {
  it('asks about the exact client, full width, red inverse', () => {
    const frame = render(<ConfirmKick client={makeClient(3)} now={T0} width={100} />).lastFrame()!;
    expect(plain(frame)).toBe(' Kick client #3 192.168.1.13:50003 (connected 6m 15s)?  y = kick, any other key = cancel'.padEnd(100));
    expect(frame).toContain('\u001B[7m');
    expect(frame).toContain('\u001B[31m');
  });

  it('is cut, not wrapped, at 80 columns', () => {
    const frame = plain(render(<ConfirmKick client={makeClient(3)} now={T0} width={80} />).lastFrame()!);
    expect(frame.split('\n')).toHaveLength(1);
    expect(frame.length).toBeLessThanOrEqual(80);
  });
});

describe('Footer with a long message', () => {
  it('gives the whole line to a message that does not fit beside the keys', () => {
    const frame = plain(
      render(<Footer width={80} paused={false} interactive message={{ text: 'kicked client #2 (192.168.100.200:50000)', severity: 'ok' }} />).lastFrame()!,
    );
    expect(frame.trim()).toBe('kicked client #2 (192.168.100.200:50000)');
  });
});
