import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { renderToString } from 'ink';
import { stripVTControlCharacters as plain } from 'node:util';
import { Screen, type ScreenProps } from '../../../tui/components/Screen.js';
import { clientRates, eventToLogEntry, previousClients, sortClients } from '../../../tui/format.js';
import { ThemeContext } from '../../../tui/hooks/use-theme.js';
import { NO_COLOR_THEME } from '../../../tui/theme.js';
import type { ConnectionView } from '../../../tui/view.js';
import { advance, makeBus, makeClient, makeEvent, makeSnapshot } from '../fixtures.js';

const live: ConnectionView = { phase: 'live', socketPath: '/run/ampio-bridge/control.sock', attempt: 1, retryInMs: null, reason: null, detail: null };

function screenProps(over: Partial<ScreenProps> = {}, nClients = 3, buses = 1): ScreenProps {
  const s0 = makeSnapshot({ clients: Array.from({ length: nClients }, (_, i) => makeClient(i + 1)) });
  if (buses === 2) s0.buses = [makeBus(), makeBus({ name: 'can1', listen: '0.0.0.0:20001', busState: 'error-passive' })];
  const s1 = advance(s0);
  const rates = clientRates(s0, s1);
  return {
    columns: 80,
    rows: 23,
    connection: live,
    snapshot: s1,
    clients: sortClients(s1.clients, 'id', false, rates),
    rates,
    previous: previousClients(s0),
    events: [eventToLogEntry(makeEvent())],
    selectedId: 1,
    scrollTop: 0,
    sortKey: 'id',
    sortDescending: false,
    paused: false,
    showHelp: false,
    confirmKick: null,
    message: null,
    interactive: true,
    intervalMs: 1000,
    ...over,
  };
}

const linesOf = (frame: string) => plain(frame).split('\n');

describe('Screen', () => {
  it('with capture on: one CAPTURE line under the totals, the screen still exactly 23 lines', () => {
    const props = screenProps();
    const base = props.snapshot!;
    const snapshot = {
      ...base,
      capture: {
        path: '/var/lib/ampio-bridge/capture.db', state: 'on' as const, rows: 52_000, bytes: 2 * 1024 * 1024, oldestFrame: base.time - 600_000, newestFrame: base.time,
        frames: 52_000, dropped: 0, queued: 0, evicted: 0,
        forward: { state: 'connected' as const, target: 'postgres://u@db/can#can_frames', backlogRows: 0, lagSeconds: 0, rowsTotal: 52_000, errorsTotal: 0, lostTotal: 0, lastError: null },
      },
    };
    const lines = linesOf(render(<Screen {...props} snapshot={snapshot} />).lastFrame()!);
    expect(lines).toHaveLength(23);
    const i = lines.findIndex((l) => l.startsWith('TOTALS'));
    expect(lines[i + 1]).toMatch(/^CAPTURE on · 52,000 frames · 2 MiB · 10 min kept → PG connected · backlog 0/);
    expect(lines[i + 1].length).toBeLessThanOrEqual(80);
    expect(lines[22]).toContain('q quit');
  });

  it('capture off or not recording: the reason and the next step on the CAPTURE line, within 80 columns', () => {
    const props = screenProps();
    const base = props.snapshot!;
    const capture = {
      path: '/var/lib/ampio-bridge/capture.db', rows: 52_000, bytes: 2 * 1024 * 1024, oldestFrame: base.time - 600_000, newestFrame: base.time,
      frames: 0, dropped: 1234, queued: 0, evicted: 0, forward: null,
    };
    const damaged = { ...capture, state: 'failed' as const, problem: { reason: 'corrupt' as const, message: 'the capture store … is damaged', hint: 'run: ampio-bridge capture recover …', since: base.time } };
    const full = { ...capture, state: 'on' as const, problem: { reason: 'disk_full' as const, message: 'the disk … is full', hint: 'free space on that file system (or lower --capture-max-size); capture resumes by itself', since: base.time } };
    const lineOf = (c: typeof damaged | typeof full) => {
      const lines = linesOf(render(<Screen {...props} snapshot={{ ...base, capture: c }} />).lastFrame()!);
      expect(lines).toHaveLength(23);
      return lines[lines.findIndex((l) => l.startsWith('TOTALS')) + 1];
    };
    expect(lineOf(damaged)).toBe('CAPTURE off (store damaged) ! run: ampio-bridge capture recover');
    expect(lineOf(full)).toMatch(/^CAPTURE on, not recording \(disk full\) ! free space on that file system/);
    expect(lineOf(full).length).toBeLessThanOrEqual(80);
  });

  it('with MQTT on: one MQTT line under the totals (broker state, published, commands), still exactly 23 lines', () => {
    const props = screenProps();
    const base = props.snapshot!;
    const mqtt = {
      state: 'connected' as const, broker: 'mqtt://bridge:***@127.0.0.1:1883', prefix: 'ampio/pi', since: base.time - 5000, connects: 2, disconnects: 1, lastError: null,
      listenOnly: false, topics: 120, pending: 0, published: 4321, superseded: 0, commands: { received: 7, sent: 6, refused: { unknown_entity: 1 }, failed: {} },
    };
    const lines = linesOf(render(<Screen {...props} snapshot={{ ...base, mqtt }} />).lastFrame()!);
    expect(lines).toHaveLength(23);
    const i = lines.findIndex((l) => l.startsWith('TOTALS'));
    expect(lines[i + 1]).toBe('MQTT connected · 4,321 published · 7 commands (1 refused, 0 failed)');
    const down = linesOf(render(<Screen {...props} snapshot={{ ...base, mqtt: { ...mqtt, state: 'disconnected' as const, lastError: 'connect ECONNREFUSED 127.0.0.1:1883', pending: 12 } }} />).lastFrame()!);
    expect(down[i + 1]).toMatch(/^MQTT disconnected 5s · 12 pending · 4,321 published · 7 commands/);
  });

  it('80x24 (23 lines drawn): every panel, exact height, nothing wider than 80', () => {
    const lines = linesOf(render(<Screen {...screenProps()} />).lastFrame()!);
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const text = lines.join('\n');
    expect(lines[0]).toContain('ampio-bridge 0.1.0');
    expect(lines[2]).toMatch(/^● can0/);
    expect(text).toContain('CLIENTS 3');
    expect(text).toContain('TOTALS');
    expect(text).toContain('EVENTS');
    expect(text).toContain('client #3 connected from 192.168.1.13:50003');
    expect(lines[22]).toContain('q quit');
  });

  it('80x24 with two buses and 40 clients: both buses, a scrolling table, totals, events, footer', () => {
    const lines = linesOf(render(<Screen {...screenProps({}, 40, 2)} />).lastFrame()!);
    expect(lines).toHaveLength(23);
    const text = lines.join('\n');
    expect(text).toMatch(/● can0/);
    expect(text).toMatch(/▲ can1/);
    expect(text).toMatch(/CLIENTS 40 .*1–\d+ of 40/);
    expect(text).toContain('TOTALS');
    expect(text).toContain('EVENTS');
    expect(lines[22]).toContain('q quit');
  });

  it('120x40: the wide table has bytes and capacity columns', () => {
    const text = plain(renderToString(<Screen {...screenProps({ columns: 120, rows: 39 }, 30, 2)} />, { columns: 120 }));
    const lines = text.split('\n');
    expect(lines).toHaveLength(39);
    expect(text).toContain('BYTES OUT');
    expect(text).toContain('CAP');
    expect(text).toMatch(/ID▲ BUS\s+REMOTE/);
  });

  it('waiting: header says so, the body is the waiting screen, no stale numbers', () => {
    const waiting: ConnectionView = { ...live, phase: 'waiting', reason: 'lost', retryInMs: 500, attempt: 2, detail: 'closed' };
    const text = plain(render(<Screen {...screenProps({ connection: waiting })} />).lastFrame()!);
    expect(text).toContain('✖ waiting');
    expect(text).toContain('waiting for the bridge at /run/ampio-bridge/control.sock…');
    expect(text).not.toContain('CLIENTS');
    expect(text).not.toContain('can0');
    expect(text.split('\n')).toHaveLength(23);
  });

  it('help replaces the body; confirm-kick replaces the footer', () => {
    const help = plain(render(<Screen {...screenProps({ showHelp: true })} />).lastFrame()!);
    expect(help).toContain('ampio-bridge top — keys');
    expect(help).not.toContain('CLIENTS');
    expect(help.split('\n')).toHaveLength(23);
    const confirm = linesOf(render(<Screen {...screenProps({ confirmKick: makeClient(2) })} />).lastFrame()!);
    expect(confirm[22]).toContain('Kick client #2');
    expect(confirm.join('\n')).not.toContain('q quit');
  });

  it('a terminal too short for two bus panels says so instead of overflowing', () => {
    const lines = linesOf(render(<Screen {...screenProps({ rows: 12 }, 5, 2)} />).lastFrame()!);
    expect(lines).toHaveLength(12);
    expect(lines.join('\n')).toContain('1 more bus: enlarge the terminal');
    expect(lines[11]).toContain('q quit');
  });

  it('NO_COLOR: no colour escape anywhere in the frame', () => {
    const frame = render(
      <ThemeContext.Provider value={NO_COLOR_THEME}>
        <Screen {...screenProps({}, 5, 2)} />
      </ThemeContext.Provider>,
    ).lastFrame()!;
    expect(frame).not.toMatch(/\u001B\[(3\d|9\d|4\d)m/);
    expect(plain(frame)).toContain('CLIENTS 5');
  });
});
