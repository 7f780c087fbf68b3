import type React from 'react';
import { Box, Text } from 'ink';
import type { BusSnapshot } from '../../src/control/protocol.js';
import {
  backendSeverity,
  busLoadSeverity,
  busSeverity,
  busStateSeverity,
  compactListen,
  formatAge,
  formatBitrate,
  formatCount,
  formatCounters,
  formatPercent,
  formatRate,
  sparkScale,
  sumValues,
} from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityGlyph, severityStyle } from '../theme.js';
import { Sparkline } from './Sparkline.js';

export interface BusPanelProps {
  bus: BusSnapshot;
  /** Snapshot time, for "state for 5m". */
  now: number;
  width: number;
}

/** A bus that has heard nothing for this long is worth a note (a silent Ampio bus is a fault). */
const QUIET_AFTER_SEC = 10;

/**
 * Three lines per bus:
 *   ● can0  socketcan  backend open  bus error-active 2h 03m  50 kbit/s  :20000  3 clients
 *     load  4.2% ▁▂▃▂▁…                                   peak 6.1% of 10%
 *     rx 250/s 1.2M  tx 3/s 120  errors 0  txq 0  stale 0
 */
export function BusPanel({ bus, now, width }: BusPanelProps): React.JSX.Element {
  const theme = useTheme();
  // Below 100 columns the "backend"/"bus" labels go: the state names speak for themselves.
  const roomy = width >= 100;
  const overall = busSeverity(bus);
  const backendSev = backendSeverity(bus.backendState);
  const stateSev = busStateSeverity(bus.busState);
  const loadSev = busLoadSeverity(bus.busLoad);
  const since = formatAge(Math.max(0, (now - bus.stateSince) / 1000));

  // Line 2: the sparkline takes what the labels leave, at most one cell per second of history.
  const history = bus.busLoadHistory;
  const scale = sparkScale([...history, bus.busLoad]);
  const peak = history.reduce((m, v) => Math.max(m, v), bus.busLoad);
  const loadLabel = `  load ${formatPercent(bus.busLoad).padStart(6)} `;
  const peakLabel = `  peak ${formatPercent(peak)} · scale ${scale}%`;
  const sparkWidth = Math.max(0, Math.min(60, width - loadLabel.length - peakLabel.length));

  const errors = bus.errorFrames;
  const counters = formatCounters(bus.errorCounters);
  const txDrops = sumValues(bus.txDrops);

  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text {...severityStyle(theme, overall)}>{severityGlyph(overall)} </Text>
        <Text bold {...severityStyle(theme, overall)}>
          {bus.name}
        </Text>
        {/* The header names the backend already; on a narrow screen the bus line leaves it out. */}
        <Text {...severityStyle(theme, 'muted')}>{roomy ? `  ${bus.backend}  backend ` : '  '}</Text>
        <Text {...severityStyle(theme, backendSev)}>{bus.backendState}</Text>
        <Text {...severityStyle(theme, 'muted')}>{roomy ? '  bus ' : '  '}</Text>
        <Text {...severityStyle(theme, stateSev)}>{bus.busState}</Text>
        <Text {...severityStyle(theme, 'muted')}> {since}</Text>
        <Text>  {bus.bitrate === null ? 'bitrate ?' : formatBitrate(bus.bitrate)}{bus.fd ? ' FD' : ''}</Text>
        <Text {...severityStyle(theme, 'muted')}>  {roomy ? bus.listen : compactListen(bus.listen)}</Text>
        <Text>  {bus.clients} {bus.clients === 1 ? 'client' : 'clients'}</Text>
      </Text>
      <Text wrap="truncate">
        <Text>{loadLabel.slice(0, 7)}</Text>
        <Text {...severityStyle(theme, loadSev)}>{loadLabel.slice(7)}</Text>
        <Sparkline values={history} width={sparkWidth} max={scale} severity={loadSev} />
        <Text {...severityStyle(theme, 'muted')}>{peakLabel}</Text>
      </Text>
      <Text wrap="truncate">
        <Text>  rx </Text>
        <Text bold>{formatRate(bus.rxFps)}/s</Text>
        <Text {...severityStyle(theme, 'muted')}> {formatCount(bus.rxFrames)}</Text>
        <Text>  tx </Text>
        <Text bold>{formatRate(bus.txFps)}/s</Text>
        <Text {...severityStyle(theme, 'muted')}> {formatCount(bus.txFrames)}</Text>
        <Text>  errors </Text>
        <Text {...severityStyle(theme, errors > 0 ? 'warn' : 'ok')}>{formatCount(errors)}</Text>
        {counters ? <Text {...severityStyle(theme, 'warn')}> ({counters})</Text> : null}
        <Text>  txq </Text>
        <Text {...severityStyle(theme, bus.txQueueDepth > 0 ? 'info' : 'ok')}>{formatCount(bus.txQueueDepth)}</Text>
        <Text>  stale </Text>
        <Text {...severityStyle(theme, bus.staleDrops > 0 ? 'warn' : 'ok')}>{formatCount(bus.staleDrops)}</Text>
        {txDrops > 0 ? (
          <>
            <Text>  tx dropped </Text>
            <Text {...severityStyle(theme, 'warn')}>{formatCount(txDrops)}</Text>
          </>
        ) : null}
        {(bus.rxReadLate ?? 0) > 0 ? (
          <>
            <Text>  rx read late </Text>
            <Text {...severityStyle(theme, 'warn')}>{formatCount(bus.rxReadLate ?? 0)}</Text>
          </>
        ) : null}
        {(bus.rxKernelDrops ?? 0) > 0 ? (
          <>
            <Text>  rx lost in kernel </Text>
            <Text {...severityStyle(theme, 'error')}>{formatCount(bus.rxKernelDrops ?? 0)}</Text>
          </>
        ) : null}
        {bus.lastRxAgeSec !== null && bus.lastRxAgeSec >= QUIET_AFTER_SEC ? (
          <Text {...severityStyle(theme, 'warn')}>  quiet {formatAge(bus.lastRxAgeSec)}</Text>
        ) : null}
        {bus.reopens > 0 ? <Text {...severityStyle(theme, 'muted')}>  reopened {bus.reopens}×</Text> : null}
      </Text>
    </Box>
  );
}
