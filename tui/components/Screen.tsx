import type React from 'react';
import { Box, Text } from 'ink';
import type { ClientSnapshot, Snapshot } from '../../src/control/protocol.js';
import type { ClientRates, LogEntry, SortKey } from '../format.js';
import { computeLayout } from '../layout.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';
import type { ConnectionView, UiMessage } from '../view.js';
import { BusPanel } from './BusPanel.js';
import { ClientsTable } from './ClientsTable.js';
import { ConfirmKick } from './ConfirmKick.js';
import { EventLog } from './EventLog.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { Totals } from './Totals.js';
import { CaptureLine } from './CaptureLine.js';
import { MqttLine } from './MqttLine.js';
import { WaitingScreen } from './WaitingScreen.js';
import { ModulesTable } from './ModulesTable.js';

export interface ScreenProps {
  columns: number;
  /** Lines to fill exactly. */
  rows: number;
  connection: ConnectionView;
  /** Null until the first snapshot; kept (dimmed out of view) while waiting. */
  snapshot: Snapshot | null;
  /** Clients sorted for display. */
  clients: readonly ClientSnapshot[];
  rates: ReadonlyMap<number, ClientRates>;
  previous: ReadonlyMap<number, ClientSnapshot>;
  events: readonly LogEntry[];
  selectedId: number | null;
  scrollTop: number;
  sortKey: SortKey;
  sortDescending: boolean;
  paused: boolean;
  showHelp: boolean;
  confirmKick: ClientSnapshot | null;
  message: UiMessage | null;
  interactive: boolean;
  intervalMs: number;
  /** What the body shows: the clients (default) or the Ampio modules (key m, --modules). */
  view?: 'clients' | 'modules';
}

/** The whole frame, from props only: App feeds it live, `--once` renders it to a string. */
export function Screen(props: ScreenProps): React.JSX.Element {
  const theme = useTheme();
  const { columns: width, rows, snapshot, connection } = props;
  const live = connection.phase === 'live' && snapshot !== null;
  const buses = live ? snapshot.buses : [];
  const layout = computeLayout({ rows, buses: buses.length, clients: props.clients.length, capture: snapshot?.capture !== undefined, mqtt: snapshot?.mqtt !== undefined });
  const hiddenBuses = buses.length - layout.busPanels;

  let body: React.JSX.Element;
  if (!live) {
    body = <WaitingScreen connection={connection} width={width} height={Math.max(1, rows - 3)} />;
  } else if (props.showHelp) {
    body = <HelpOverlay width={width} height={layout.bodyRows} intervalMs={props.intervalMs} />;
  } else if (props.view === 'modules') {
    body = <ModulesTable ampio={snapshot.ampio} height={layout.bodyRows} width={width} now={snapshot.time} />;
  } else {
    body = (
      <Box flexDirection="column" width={width} height={layout.bodyRows}>
        <ClientsTable
          clients={props.clients}
          rates={props.rates}
          previous={props.previous}
          selectedId={props.selectedId}
          scrollTop={props.scrollTop}
          rows={layout.clientRows}
          width={width}
          now={snapshot.time}
          sortKey={props.sortKey}
          sortDescending={props.sortDescending}
          multiBus={snapshot.buses.length > 1}
          multiProtocol={protocolsOf(snapshot).length > 1}
          listen={snapshot.daemon.listen}
          otherListen={(snapshot.daemon.listeners ?? []).filter((l) => l.protocol !== 'cannelloni').map((l) => `${l.protocol} ${l.address}`)}
        />
        {layout.showTotals ? <Totals totals={snapshot.totals} width={width} /> : null}
        {layout.showTotals && snapshot.capture ? <CaptureLine capture={snapshot.capture} now={snapshot.time} /> : null}
        {layout.showTotals && snapshot.mqtt ? <MqttLine mqtt={snapshot.mqtt} now={snapshot.time} /> : null}
        {layout.showEvents ? <EventLog entries={props.events} rows={layout.eventRows} width={width} /> : null}
      </Box>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={rows} overflow="hidden">
      <Header snapshot={live ? snapshot : null} connection={connection} paused={props.paused} width={width} />
      {live
        ? buses.slice(0, layout.busPanels).map((bus) => <BusPanel key={bus.name} bus={bus} now={snapshot.time} width={width} />)
        : null}
      {live && hiddenBuses > 0 ? (
        <Text {...severityStyle(theme, 'muted')}>
          {hiddenBuses} more bus{hiddenBuses === 1 ? '' : 'es'}: enlarge the terminal
        </Text>
      ) : null}
      {body}
      {props.confirmKick && live ? (
        <ConfirmKick client={props.confirmKick} now={snapshot.time} width={width} />
      ) : (
        <Footer width={width} paused={props.paused} interactive={props.interactive} message={props.message} />
      )}
    </Box>
  );
}

/** Protocols served or spoken by a client (daemons before protocol plug-ins: cannelloni only). */
function protocolsOf(snapshot: Snapshot): string[] {
  const names = new Set<string>(['cannelloni']);
  for (const l of snapshot.daemon.listeners ?? []) names.add(l.protocol);
  for (const c of snapshot.clients) names.add(c.protocol ?? 'cannelloni');
  return [...names];
}
