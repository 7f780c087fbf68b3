
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import { WaitingScreen } from '../../../tui/components/WaitingScreen.js';
import type { ConnectionView } from '../../../tui/view.js';

const base: ConnectionView = {
  phase: 'waiting',
  socketPath: '/run/ampio-bridge/control.sock',
  attempt: 4,
  retryInMs: 2000,
  reason: 'not_running',
  detail: 'not running (ENOENT)',
};

describe('WaitingScreen', () => {
  it('not running: names the socket, the attempt, and how to start the bridge', () => {
    const frame = plain(render(<WaitingScreen connection={base} width={80} height={10} />).lastFrame()!);
    expect(frame).toContain('waiting for the bridge at /run/ampio-bridge/control.sock…');
    expect(frame).toContain('attempt 4 · next try in 2s · not running (ENOENT)');
    expect(frame).toContain('sudo systemctl start ampio-bridge');
    expect(frame.split('\n')).toHaveLength(10);
  });

  it('permission: the group command', () => {
    const frame = plain(render(<WaitingScreen connection={{ ...base, reason: 'permission', detail: 'permission denied' }} width={100} height={8} />).lastFrame()!);
    expect(frame).toContain('sudo usermod -aG ampio-bridge $USER');
  });

  it('out of file descriptors: says so, and where to look', () => {
    const frame = plain(render(<WaitingScreen connection={{ ...base, reason: 'no_descriptors', detail: 'out of file descriptors' }} width={140} height={8} />).lastFrame()!);
    expect(frame).toContain('out of file descriptors');
    expect(frame).toContain('LimitNOFILE=');
  });

  it('lost: says the bridge went away and top reconnects by itself', () => {
    const frame = plain(render(<WaitingScreen connection={{ ...base, reason: 'lost', attempt: 1, retryInMs: 250 }} width={80} height={8} />).lastFrame()!);
    expect(frame).toContain('The bridge went away');
    expect(frame).toContain('next try in 0.3s');
  });

  it('first connection: "connecting to", no hints yet', () => {
    const frame = plain(
      render(<WaitingScreen connection={{ ...base, phase: 'connecting', attempt: 1, reason: null, detail: null, retryInMs: null }} width={80} height={6} />).lastFrame()!,
    );
    expect(frame).toContain('connecting to the bridge at');
    expect(frame).not.toContain('systemctl');
  });

  it('a long socket path keeps its end visible in 80 columns', () => {
    const long = `/home/someone/with/a/very/long/runtime/directory/path/that/goes/on/and/on/ampio-bridge/control.sock`;
    const frame = plain(render(<WaitingScreen connection={{ ...base, socketPath: long }} width={80} height={8} />).lastFrame()!);
    expect(frame).toContain('ampio-bridge/control.sock…');
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});
