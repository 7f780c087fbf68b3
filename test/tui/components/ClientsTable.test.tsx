import '../../support/force-color.js';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters as plain } from 'node:util';
import type { ClientSnapshot } from '../../../src/control/protocol.js';
import { ClientsTable, type ClientsTableProps } from '../../../tui/components/ClientsTable.js';
import { ThemeContext } from '../../../tui/hooks/use-theme.js';
import { NO_COLOR_THEME } from '../../../tui/theme.js';
import { makeClient, T0 } from '../fixtures.js';

function props(clients: ClientSnapshot[], over: Partial<ClientsTableProps> = {}): ClientsTableProps {
  return {
    clients,
    rates: new Map(clients.map((c) => [c.id, { outFps: 250, inFps: 1.5 }])),
    previous: new Map(clients.map((c) => [c.id, c])),
    selectedId: null,
    scrollTop: 0,
    rows: 5,
    width: 100,
    now: T0,
    sortKey: 'id',
    sortDescending: false,
    multiBus: false,
    listen: ['0.0.0.0:20000'],
    ...over,
  };
}

const rowOf = (frame: string, id: number) => plain(frame).split('\n').find((l) => new RegExp(`^..\\s+${id} `).test(l))!;

describe('ClientsTable', () => {
  it('on a wide terminal shows how far behind each client is and what its TX guard refused', () => {
    const slow = { ...makeClient(1), behindMs: 2400, staleDrops: 3, readOnly: true, txRefused: { read_only: 9, id_not_allowed: 0, rate_limited: 0 } };
    const limited = { ...makeClient(2), behindMs: 12, readOnly: false, txRefused: { read_only: 0, id_not_allowed: 1, rate_limited: 40 } };
    const frame = render(<ClientsTable {...props([slow, limited], { width: 160 })} />).lastFrame()!;
    expect(plain(frame).split('\n')[1]).toMatch(/DROPS\s+BEHIND\s+TX REF$/);
    expect(rowOf(frame, 1)).toMatch(/\s3\s+2\.4s\s+ro\s*$/);
    expect(rowOf(frame, 2)).toMatch(/\s12ms\s+41\s*$/);
  });

  it('lists id, remote, connected for, rates, totals, queue/high-water and drops', () => {
    const frame = render(<ClientsTable {...props([makeClient(1), makeClient(2)])} />).lastFrame()!;
    const lines = plain(frame).split('\n');
    expect(lines[0]).toMatch(/^CLIENTS 2 {2}sort id ▲$/);
    expect(lines[1]).toMatch(/^\s+ID▲ REMOTE\s+CONNECTED\s+OUT\/S\s+IN\/S\s+OUT\s+IN\s+QUEUE\/HIGH\s+CAP\s+DROPS$/);
    expect(rowOf(frame, 1)).toMatch(/^ {2} {3}1 192\.168\.1\.11:50001\s+2m 05s\s+250\s+1\.5\s+10k\s+10\s+0\/12\s+512\s+0\s*$/);
    expect(rowOf(frame, 2)).toContain('4m 10s');
  });

  it('shows a dash for a rate not yet known (first snapshot of a client)', () => {
    const frame = render(<ClientsTable {...props([makeClient(1)], { rates: new Map() })} />).lastFrame()!;
    expect(rowOf(frame, 1)).toMatch(/2m 05s\s+–\s+–\s+10k/);
  });

  it('highlights a client that is dropping now (red, !) and one near its buffer limit (yellow, ~)', () => {
    const dropping = makeClient(1, { drops: 40, queueDepth: 512, queueHighWater: 512 });
    const near = makeClient(2, { queueDepth: 400, queueHighWater: 420 });
    const ok = makeClient(3, { drops: 7 }); // dropped long ago, not now
    const previous = new Map<number, ClientSnapshot>([
      [1, { ...dropping, drops: 10 }],
      [2, near],
      [3, ok],
    ]);
    const frame = render(<ClientsTable {...props([dropping, near, ok], { previous })} />).lastFrame()!;
    expect(plain(frame).split('\n')[0]).toContain('1 dropping');
    expect(rowOf(frame, 1)).toMatch(/^ !/);
    expect(rowOf(frame, 2)).toMatch(/^ ~/);
    expect(rowOf(frame, 3)).toMatch(/^ {2}/);
    const raw = frame.split('\n');
    expect(raw.find((l) => plain(l).includes(':50001'))).toContain('\u001B[31m');
    expect(raw.find((l) => plain(l).includes(':50002'))).toContain('\u001B[33m');
    expect(raw.find((l) => plain(l).includes(':50003'))).not.toMatch(/\u001B\[3[13]m/);
  });

  it('marks the selected row with ▶ and inverse video across the full width', () => {
    const frame = render(<ClientsTable {...props([makeClient(1), makeClient(2)], { selectedId: 2 })} />).lastFrame()!;
    const row = frame.split('\n').find((l) => plain(l).includes(':50002'))!;
    expect(plain(row)).toMatch(/^▶/);
    expect(plain(row)).toHaveLength(100);
    expect(row).toContain('\u001B[7m');
    expect(frame.split('\n').find((l) => plain(l).includes(':50001'))).not.toContain('\u001B[7m');
  });

  it('scrolls: shows only `rows` clients from scrollTop and says which', () => {
    const clients = Array.from({ length: 12 }, (_, i) => makeClient(i + 1));
    const frame = plain(render(<ClientsTable {...props(clients, { rows: 4, scrollTop: 5 })} />).lastFrame()!);
    expect(frame.split('\n')[0]).toContain('6–9 of 12');
    expect(frame).toContain(':50006');
    expect(frame).toContain(':50009');
    expect(frame).not.toContain(':50005');
    expect(frame).not.toContain(':50010');
  });

  it('marks the sort column and direction in the header', () => {
    const frame = plain(render(<ClientsTable {...props([makeClient(1)], { sortKey: 'outFps', sortDescending: true })} />).lastFrame()!);
    expect(frame).toContain('sort out/s ▼');
    expect(frame).toMatch(/OUT\/S▼/);
    expect(frame).not.toContain('ID▲');
  });

  it('empty state: says no clients and where they connect', () => {
    const frame = plain(render(<ClientsTable {...props([])} />).lastFrame()!);
    expect(frame).toContain('CLIENTS 0');
    expect(frame).toContain('no clients connected — cannelloni TCP clients connect to 0.0.0.0:20000');
  });

  it('80 columns: drops the least important columns, keeps queue and drops, no line wider than 80', () => {
    const clients = [makeClient(1, { remote: '[2001:db8:1234:5678:9abc:def0:1234:5678]:50001' })];
    const frame = plain(render(<ClientsTable {...props(clients, { width: 80, selectedId: 1 })} />).lastFrame()!);
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(frame).toContain('QUEUE/HIGH');
    expect(frame).toContain('DROPS');
    expect(frame).not.toContain('BYTES OUT');
    expect(frame).toContain('[2001:db8:'); // long remote cut with an ellipsis, not wrapped
    expect(frame).toContain('…');
  });

  it('two protocols: a PROTOCOL column that still fits 80 columns, with two buses too', () => {
    const clients = [makeClient(1, { protocol: 'tcpcan', bus: 'can1' }), makeClient(2)];
    for (const multiBus of [false, true]) {
      const frame = plain(render(<ClientsTable {...props(clients, { width: 80, multiProtocol: true, multiBus })} />).lastFrame()!);
      for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
      expect(frame).toMatch(/ID▲ PROTOCOL\s+/);
      expect(rowOf(frame, 1)).toMatch(/1 tcpcan\s+/);
      expect(rowOf(frame, 2)).toMatch(/2 cannelloni\s+/);
      expect(frame).toContain('DROPS');
    }
  });

  it('empty state with a second protocol names its listener too', () => {
    const frame = plain(render(<ClientsTable {...props([], { otherListen: ['tcpcan 0.0.0.0:20010'] })} />).lastFrame()!);
    expect(frame).toContain('cannelloni TCP clients connect to 0.0.0.0:20000 · tcpcan 0.0.0.0:20010');
  });

  it('two buses: a BUS column', () => {
    const frame = plain(render(<ClientsTable {...props([makeClient(1, { bus: 'can1' })], { multiBus: true, width: 120 })} />).lastFrame()!);
    expect(frame).toMatch(/ID▲ BUS\s+REMOTE/);
    expect(frame).toMatch(/1 can1\s+192\.168/);
  });

  it('NO_COLOR: dropping and near rows still marked, selection still inverse, no colour codes', () => {
    const dropping = makeClient(1, { drops: 2 });
    const frame = render(
      <ThemeContext.Provider value={NO_COLOR_THEME}>
        <ClientsTable {...props([dropping], { previous: new Map([[1, { ...dropping, drops: 0 }]]), selectedId: 1 })} />
      </ThemeContext.Provider>,
    ).lastFrame()!;
    expect(frame).not.toMatch(/\u001B\[3\dm/);
    expect(rowOf(frame, 1)).toMatch(/^▶!/);
    expect(frame).toContain('\u001B[7m');
  });
});
