import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BUS_PANEL_ROWS,
  CLIENTS_CHROME_ROWS,
  computeLayout,
  EVENTS_TITLE_ROWS,
  FOOTER_ROWS,
  HEADER_ROWS,
  scrollTopFor,
  TOTALS_ROWS,
} from '../../tui/layout.js';

/** Lines the screen uses for a layout (must equal the rows it was given). */
function used(rows: number, buses: number, clients: number): number {
  const l = computeLayout({ rows, buses, clients });
  return (
    HEADER_ROWS +
    FOOTER_ROWS +
    l.busPanels * BUS_PANEL_ROWS +
    (l.busPanels < buses ? 1 : 0) +
    CLIENTS_CHROME_ROWS +
    l.clientRows +
    (l.showTotals ? TOTALS_ROWS : 0) +
    (l.showEvents ? EVENTS_TITLE_ROWS + l.eventRows : 0)
  );
}

describe('computeLayout', () => {
  it('80x24 with one bus: all panels, clients first, events get the rest', () => {
    // The app renders one line less than the terminal (see App.tsx).
    expect(computeLayout({ rows: 23, buses: 1, clients: 3 })).toEqual({
      busPanels: 1,
      clientRows: 3,
      showTotals: true,
      showEvents: true,
      eventRows: 10,
      bodyRows: 17,
    });
    const crowded = computeLayout({ rows: 23, buses: 1, clients: 40 });
    expect(crowded.clientRows).toBe(10);
    expect(crowded.eventRows).toBe(3);
  });

  it('80x24 with two buses still shows clients, totals and a few events', () => {
    const l = computeLayout({ rows: 23, buses: 2, clients: 40 });
    expect(l.busPanels).toBe(2);
    expect(l.clientRows).toBeGreaterThanOrEqual(5);
    expect(l.showTotals && l.showEvents).toBe(true);
    expect(l.eventRows).toBeGreaterThanOrEqual(2);
  });

  it('a tiny terminal drops the event log, then totals, then bus panels', () => {
    expect(computeLayout({ rows: 12, buses: 1, clients: 5 }).showEvents).toBe(false);
    const tiny = computeLayout({ rows: 8, buses: 2, clients: 5 });
    expect(tiny.busPanels).toBeLessThan(2);
    expect(tiny.clientRows).toBeGreaterThanOrEqual(1);
  });

  it('fills the height exactly from 12 rows up (no scrolling, no gaps)', () => {
    // Small enough to check every case, so no unlucky sample can hide a gap.
    for (let rows = 12; rows <= 120; rows++) {
      for (let buses = 0; buses <= 3; buses++) {
        for (let clients = 0; clients <= 60; clients++) {
          if (used(rows, buses, clients) !== rows) throw new Error(`rows ${rows}, buses ${buses}, clients ${clients}: uses ${used(rows, buses, clients)}`);
        }
      }
    }
  });
});

describe('scrollTopFor', () => {
  it('moves the window only as far as needed to show the selection', () => {
    expect(scrollTopFor(0, 0, 5, 20)).toBe(0);
    expect(scrollTopFor(4, 0, 5, 20)).toBe(0);
    expect(scrollTopFor(5, 0, 5, 20)).toBe(1);
    expect(scrollTopFor(19, 0, 5, 20)).toBe(15);
    expect(scrollTopFor(10, 15, 5, 20)).toBe(10);
    // Clients left: the window shrinks back.
    expect(scrollTopFor(2, 15, 5, 3)).toBe(0);
  });

  it('always keeps the selected row visible', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 30 }), fc.nat(100), fc.nat(100), (total, visible, sel, top) => {
        const s = sel % total;
        const t = scrollTopFor(s, top, visible, total);
        expect(s).toBeGreaterThanOrEqual(t);
        expect(s).toBeLessThan(t + visible);
        expect(t).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
