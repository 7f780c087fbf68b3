// The interactive container: owns key handling, selection, sorting, pause and the kick
// dialog, and hands plain props to <Screen>. All daemon I/O sits behind `source`.

import type React from 'react';
import { useCallback, useMemo, useRef, useState } from 'react';
import { type Key, useApp, useInput, useStdin } from 'ink';
import type { ClientSnapshot } from '../src/control/protocol.js';
import { Screen } from './components/Screen.js';
import {
  clientRates,
  defaultDescending,
  nextSortKey,
  previousClients,
  sortClients,
  type SortKey,
} from './format.js';
import { useDaemonStatus, type DaemonStatus } from './hooks/use-daemon-status.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { computeLayout, scrollTopFor } from './layout.js';
import type { StreamItem } from './source/daemon-stream.js';
import type { UiMessage } from './view.js';

export interface AppProps {
  socketPath: string;
  intervalMs: number;
  source: (signal: AbortSignal) => AsyncIterable<StreamItem>;
  /** Fixed size (tests); by default the terminal's. */
  columns?: number;
  rows?: number;
  now?: () => number;
  /** Start in the Ampio modules view (top --modules); `m` toggles. */
  initialView?: 'clients' | 'modules';
}

/** A footer message (kick result…) is shown until the first redraw after this long. */
const MESSAGE_MS = 4000;

type View = Pick<DaemonStatus, 'snapshot' | 'previous' | 'events'>;

export function App({ socketPath, intervalMs, source, columns, rows, now = Date.now, initialView = 'clients' }: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const terminal = useTerminalSize();
  // One line less than the terminal: a frame as tall as the screen makes Ink clear the
  // whole terminal on every redraw (flicker); one line short lets it rewrite lines in place.
  const width = columns ?? terminal.columns;
  const height = rows ?? Math.max(1, terminal.rows - 1);

  const status = useDaemonStatus({ socketPath, source, now });
  const [paused, setPaused] = useState<View | null>(null);
  const [sortKey, setSortKey] = useState<SortKey>('id');
  const [sortDescending, setSortDescending] = useState(false);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const lastIndex = useRef(0);
  const scrollRef = useRef(0);
  const [showHelp, setShowHelp] = useState(false);
  const [bodyView, setBodyView] = useState<'clients' | 'modules'>(initialView);
  const [confirmKick, setConfirmKick] = useState<ClientSnapshot | null>(null);
  const [message, setMessage] = useState<(UiMessage & { until: number }) | null>(null);

  const view: View = paused ?? status;
  const snapshot = view.snapshot;
  const rates = useMemo(() => (snapshot ? clientRates(view.previous, snapshot) : new Map()), [snapshot, view.previous]);
  const previous = useMemo(() => previousClients(view.previous), [view.previous]);
  const clients = useMemo(
    () => (snapshot ? sortClients(snapshot.clients, sortKey, sortDescending, rates) : []),
    [snapshot, sortKey, sortDescending, rates],
  );

  // Selection follows the client (by id) through re-sorts and refreshes; if it leaves, the
  // row that took its place is selected, so repeated K y works down a list.
  let selIndex = selectedId === null ? -1 : clients.findIndex((c) => c.id === selectedId);
  if (selIndex < 0 && clients.length > 0) selIndex = Math.min(lastIndex.current, clients.length - 1);
  const selected = selIndex >= 0 ? clients[selIndex] : undefined;
  if (selIndex >= 0) lastIndex.current = selIndex;

  const layout = computeLayout({ rows: height, buses: snapshot?.buses.length ?? 0, clients: clients.length });
  const scrollTop = scrollTopFor(selIndex, scrollRef.current, layout.clientRows, clients.length);
  scrollRef.current = scrollTop;

  // A message expires at the first refresh after its time: no timer of its own, no extra redraw.
  const shownMessage = message && now() <= message.until ? message : null;
  const say = (text: string, severity: UiMessage['severity']) => setMessage({ text, severity, until: now() + MESSAGE_MS });

  const select = (index: number) => {
    if (clients.length === 0) return;
    const i = Math.max(0, Math.min(clients.length - 1, index));
    lastIndex.current = i;
    setSelectedId(clients[i].id);
  };

  const doKick = (client: ClientSnapshot) => {
    status.kick(client.id).then(
      (kicked) =>
        say(kicked ? `kicked client #${client.id} (${client.remote})` : `client #${client.id} had already gone`, kicked ? 'ok' : 'muted'),
      (err: unknown) => say(`kick failed: ${err instanceof Error ? err.message : String(err)}`, 'error'),
    );
  };

  // The key handler must see this render's state. Ink re-subscribes a new handler in a
  // passive effect, which can run after the next key arrives (a stale selection, a help
  // screen that will not close); a ref updated during render never lags.
  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (confirmKick) {
      const target = confirmKick;
      setConfirmKick(null);
      if (input === 'y' || input === 'Y') doKick(target);
      else say('kick cancelled', 'muted');
      return;
    }
    if (showHelp) {
      setShowHelp(false);
      return;
    }
    if (key.upArrow || input === 'k') select(selIndex - 1);
    else if (key.downArrow || input === 'j') select(selIndex + 1);
    else if (key.pageUp) select(selIndex - layout.clientRows);
    else if (key.pageDown) select(selIndex + layout.clientRows);
    else if (key.home || input === 'g') select(0);
    else if (key.end || input === 'G') select(clients.length - 1);
    else if (input === 'K') {
      if (status.connection.phase !== 'live') say('not connected to the bridge', 'warn');
      else if (!selected) say('no client to kick', 'warn');
      else setConfirmKick(selected);
    } else if (input === 's') {
      const next = nextSortKey(sortKey);
      setSortKey(next);
      setSortDescending(defaultDescending(next));
    } else if (input === 'S') setSortDescending((d) => !d);
    else if (input === 'p') setPaused((p) => (p ? null : { snapshot: status.snapshot, previous: status.previous, events: status.events }));
    else if (input === '?') setShowHelp(true);
    else if (input === 'm') setBodyView((v) => (v === 'modules' ? 'clients' : 'modules'));
  };
  const handleKey = useCallback((input: string, key: Key) => onKey.current(input, key), []);
  useInput(handleKey, { isActive: isRawModeSupported });

  return (
    <Screen
      columns={width}
      rows={height}
      connection={status.connection}
      snapshot={snapshot}
      clients={clients}
      rates={rates}
      previous={previous}
      events={view.events}
      selectedId={selected?.id ?? null}
      scrollTop={scrollTop}
      sortKey={sortKey}
      sortDescending={sortDescending}
      paused={paused !== null}
      showHelp={showHelp}
      confirmKick={confirmKick}
      message={shownMessage}
      interactive={isRawModeSupported}
      intervalMs={intervalMs}
      view={bodyView}
    />
  );
}
