// Row budget for the screen: pure arithmetic so the 80x24 layout is tested without a terminal.
// The frame is always exactly `rows` lines, so Ink rewrites lines in place (no scrolling, no
// flicker) and the footer stays at the bottom.

export const HEADER_ROWS = 2;
export const BUS_PANEL_ROWS = 3;
export const FOOTER_ROWS = 1;
/** Clients title + column header line. */
export const CLIENTS_CHROME_ROWS = 2;
export const TOTALS_ROWS = 1;
export const EVENTS_TITLE_ROWS = 1;

export interface LayoutInput {
  rows: number;
  buses: number;
  clients: number;
  /** Capture is on: one more line under the totals. */
  capture?: boolean;
  /** MQTT is on: one more line under the totals. */
  mqtt?: boolean;
}

export interface Layout {
  /** Bus panels that fit (a third bus on a tiny terminal is left out, said in the title). */
  busPanels: number;
  /** Visible client rows (data lines, not counting the table chrome). */
  clientRows: number;
  showTotals: boolean;
  showEvents: boolean;
  eventRows: number;
  /** Lines for the body under the header (clients + totals + events), for overlays. */
  bodyRows: number;
}

export function computeLayout({ rows, buses, clients, capture, mqtt }: LayoutInput): Layout {
  const totalsRows = TOTALS_ROWS + (capture ? 1 : 0) + (mqtt ? 1 : 0);
  let rem = Math.max(0, rows - HEADER_ROWS - FOOTER_ROWS);
  // Keep at least the table chrome and 2 client rows below the buses.
  const busPanels = Math.max(0, Math.min(buses, Math.floor((rem - CLIENTS_CHROME_ROWS - 2) / BUS_PANEL_ROWS)));
  rem -= busPanels * BUS_PANEL_ROWS;
  // "N more buses: enlarge the terminal"
  if (busPanels < buses) rem -= 1;
  const bodyRows = rem;
  rem -= CLIENTS_CHROME_ROWS;
  let showTotals = true;
  let showEvents = true;
  rem -= totalsRows + EVENTS_TITLE_ROWS;
  if (rem < 3) {
    showEvents = false;
    rem += EVENTS_TITLE_ROWS;
  }
  if (rem < 2) {
    showTotals = false;
    rem += totalsRows;
  }
  rem = Math.max(1, rem);
  const minEventRows = showEvents ? Math.min(3, Math.max(1, Math.floor(rem / 4))) : 0;
  // Without an event log the table takes every row left (blank ones included).
  const clientRows = showEvents ? Math.max(1, Math.min(Math.max(clients, 1), rem - minEventRows)) : rem;
  const eventRows = showEvents ? Math.max(0, rem - clientRows) : 0;
  return { busPanels, clientRows, showTotals, showEvents, eventRows, bodyRows };
}

/** First visible row so that the selected row stays in view, moving the window as little as possible. */
export function scrollTopFor(selectedIndex: number, currentTop: number, visible: number, total: number): number {
  const maxTop = Math.max(0, total - visible);
  let top = Math.min(Math.max(0, currentTop), maxTop);
  if (selectedIndex < 0) return top;
  if (selectedIndex < top) top = selectedIndex;
  else if (selectedIndex >= top + visible) top = selectedIndex - visible + 1;
  return Math.min(Math.max(0, top), maxTop);
}
