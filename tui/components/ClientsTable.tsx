import type React from 'react';
import { Box, Text } from 'ink';
import type { ClientSnapshot } from '../../src/control/protocol.js';
import {
  clientHealth,
  fit,
  formatAge,
  formatBytes,
  formatCount,
  formatRate,
  SORT_LABELS,
  type ClientHealth,
  type ClientRates,
  type SortKey,
} from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle, type Theme } from '../theme.js';

export interface ClientsTableProps {
  /** Already sorted. */
  clients: readonly ClientSnapshot[];
  rates: ReadonlyMap<number, ClientRates>;
  /** The same clients one snapshot earlier, to tell "dropping now" from "dropped once". */
  previous: ReadonlyMap<number, ClientSnapshot>;
  selectedId: number | null;
  scrollTop: number;
  /** Data rows available. */
  rows: number;
  width: number;
  now: number;
  sortKey: SortKey;
  sortDescending: boolean;
  /** Show the bus column (two-channel HAT). */
  multiBus: boolean;
  /** Show the protocol column (more than one wire protocol served). */
  multiProtocol?: boolean;
  /** Where clients connect, for the empty state. */
  listen: readonly string[];
  /** Other protocols' listeners, as "tcpcan 0.0.0.0:20010". */
  otherListen?: readonly string[];
}

interface Column {
  title: string;
  width: number;
  align: 'left' | 'right';
  /** Higher survives longer on a narrow terminal; Infinity = always shown. */
  priority: number;
  sort?: SortKey;
  cell(c: ClientSnapshot, ctx: CellContext): string;
}

interface CellContext {
  rates: ReadonlyMap<number, ClientRates>;
  now: number;
}

const MARKER_WIDTH = 2;
// An IPv4 address with port ("192.168.100.200:50000") fits whole; IPv6 is cut with an ellipsis.
const REMOTE_MIN = 21;
const REMOTE_MAX = 42;

const COLUMNS: Column[] = [
  { title: 'ID', width: 4, align: 'right', priority: Infinity, sort: 'id', cell: (c) => String(c.id) },
  // Kept longer than CONNECTED: with two protocols, who speaks what matters more than since when.
  { title: 'PROTOCOL', width: 10, align: 'left', priority: 6, cell: (c) => c.protocol ?? 'cannelloni' },
  { title: 'BUS', width: 8, align: 'left', priority: 3, cell: (c) => c.bus },
  { title: 'REMOTE', width: REMOTE_MIN, align: 'left', priority: Infinity, sort: 'remote', cell: (c) => `${c.direction === 'out' ? '→ ' : ''}${c.transport === 'udp' ? 'udp ' : ''}${c.remote}` },
  {
    title: 'CONNECTED',
    width: 9,
    align: 'right',
    priority: 5,
    sort: 'age',
    cell: (c, x) => formatAge(Math.max(0, (x.now - c.connectedAt) / 1000)),
  },
  { title: 'OUT/S', width: 7, align: 'right', priority: Infinity, sort: 'outFps', cell: (c, x) => formatRate(x.rates.get(c.id)?.outFps) },
  { title: 'IN/S', width: 6, align: 'right', priority: Infinity, sort: 'inFps', cell: (c, x) => formatRate(x.rates.get(c.id)?.inFps) },
  { title: 'OUT', width: 7, align: 'right', priority: 2, cell: (c) => formatCount(c.framesOut) },
  { title: 'IN', width: 6, align: 'right', priority: 1, cell: (c) => formatCount(c.framesIn) },
  { title: 'BYTES OUT', width: 10, align: 'right', priority: 0, cell: (c) => formatBytes(c.bytesOut) },
  {
    title: 'QUEUE/HIGH',
    width: 10,
    align: 'right',
    priority: Infinity,
    sort: 'queue',
    cell: (c) => `${formatCount(c.queueDepth)}/${formatCount(c.queueHighWater)}`,
  },
  { title: 'CAP', width: 6, align: 'right', priority: 0.5, cell: (c) => formatCount(c.queueCapacity) },
  { title: 'DROPS', width: 7, align: 'right', priority: Infinity, sort: 'drops', cell: (c) => formatCount(c.drops + (c.staleDrops ?? 0)) },
  // How far behind the client is (its oldest queued or unacknowledged frame) and what its TX
  // guard refused ("ro": listen-only). First to go on a narrow terminal.
  { title: 'BEHIND', width: 7, align: 'right', priority: -0.5, cell: (c) => formatBehind(c.behindMs) },
  { title: 'TX REF', width: 7, align: 'right', priority: -1, cell: (c) => formatRefused(c) },
];

function formatBehind(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function formatRefused(c: ClientSnapshot): string {
  if (c.readOnly) return 'ro';
  const r = c.txRefused;
  if (!r) return '-';
  return formatCount(r.rate_limited + r.id_not_allowed + r.read_only);
}

/** Drops the least important columns until the row fits; REMOTE takes what is left. */
export function fitColumns(width: number, multiBus: boolean, multiProtocol = false): Column[] {
  let cols = COLUMNS.filter((c) => (multiBus || c.title !== 'BUS') && (multiProtocol || c.title !== 'PROTOCOL'));
  const total = (list: Column[]) => MARKER_WIDTH + list.reduce((s, c) => s + c.width, 0) + (list.length - 1);
  while (total(cols) > width) {
    const optional = cols.filter((c) => Number.isFinite(c.priority));
    if (optional.length === 0) break;
    const weakest = optional.reduce((a, b) => (b.priority < a.priority ? b : a));
    cols = cols.filter((c) => c !== weakest);
  }
  const spare = Math.max(0, width - total(cols));
  return cols.map((c) => (c.title === 'REMOTE' ? { ...c, width: Math.min(REMOTE_MAX, c.width + spare) } : c));
}

const HEALTH_MARK: Record<ClientHealth, string> = { ok: ' ', near: '~', dropping: '!' };

function rowStyle(theme: Theme, health: ClientHealth, selected: boolean) {
  const base = health === 'dropping' ? severityStyle(theme, 'error') : health === 'near' ? severityStyle(theme, 'warn') : {};
  return selected ? { ...base, inverse: true } : base;
}

export function ClientsTable(props: ClientsTableProps): React.JSX.Element {
  const theme = useTheme();
  const { clients, rows, width, scrollTop, selectedId, sortKey, sortDescending } = props;
  const cols = fitColumns(width, props.multiBus, props.multiProtocol);
  const ctx: CellContext = { rates: props.rates, now: props.now };

  const first = clients.length === 0 ? 0 : scrollTop + 1;
  const last = Math.min(clients.length, scrollTop + rows);
  const range = clients.length > rows ? `  ${first}–${last} of ${clients.length}` : '';
  const arrow = sortDescending ? '▼' : '▲';

  const header =
    ' '.repeat(MARKER_WIDTH) +
    cols
      .map((c) => {
        const title = c.sort === sortKey ? `${c.title}${arrow}` : c.title;
        return fit(title, c.width, c.align);
      })
      .join(' ');

  const visible = clients.slice(scrollTop, scrollTop + rows);
  const dropping = clients.filter((c) => clientHealth(c, props.previous.get(c.id)) === 'dropping').length;

  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color={theme.accent}>
          CLIENTS
        </Text>
        <Text> {clients.length}</Text>
        <Text {...severityStyle(theme, 'muted')}>
          {'  '}sort {SORT_LABELS[sortKey]} {arrow}
          {range}
        </Text>
        {dropping > 0 ? <Text {...severityStyle(theme, 'error')}>  {dropping} dropping</Text> : null}
      </Text>
      <Text wrap="truncate" bold underline={theme.noColor} {...(theme.noColor ? {} : { color: theme.muted })}>
        {header}
      </Text>
      <Box flexDirection="column" height={rows}>
        {clients.length === 0 ? (
          <Text wrap="truncate" {...severityStyle(theme, 'muted')}>
            {'  '}no clients connected{props.listen.length > 0 ? ` — cannelloni TCP clients connect to ${props.listen.join(', ')}` : ''}
            {props.otherListen?.length ? ` · ${props.otherListen.join(' · ')}` : ''}
          </Text>
        ) : (
          visible.map((c) => {
            const health = clientHealth(c, props.previous.get(c.id));
            const selected = c.id === selectedId;
            const line =
              (selected ? '▶' : ' ') +
              HEALTH_MARK[health] +
              cols.map((col) => fit(col.cell(c, ctx), col.width, col.align)).join(' ');
            return (
              <Text key={c.id} wrap="truncate" {...rowStyle(theme, health, selected)}>
                {line.padEnd(width)}
              </Text>
            );
          })
        )}
      </Box>
    </Box>
  );
}
