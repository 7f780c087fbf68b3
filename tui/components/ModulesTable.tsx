import React from 'react';
import { Box, Text } from 'ink';
import { addressText, ageText, supplyIsLow } from '../../src/ampio/present.js';
import type { AmpioSnapshot } from '../../src/ampio/types.js';
import { truncate } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface ModulesTableProps {
  /** Absent when serve runs with --ampio=false. */
  ampio: AmpioSnapshot | undefined;
  /** Lines to fill (title + header + rows). */
  height: number;
  width: number;
  now: number;
}

const COLUMNS = ['ADDRESS', 'NAME', 'MODEL', 'AREA', 'SUPPLY', 'TEMP', 'SEEN', 'STATE'];

/** The `m` view of top: the Ampio modules, like `ampio-bridge modules`, worst first. */
export function ModulesTable({ ampio, height, width, now }: ModulesTableProps): React.JSX.Element {
  const theme = useTheme();
  if (!ampio) {
    return (
      <Box flexDirection="column" height={height} width={width}>
        <Text bold color={theme.accent}>
          AMPIO MODULES
        </Text>
        <Text {...severityStyle(theme, 'muted')}>the bridge runs with --ampio=false: no decoding</Text>
      </Box>
    );
  }
  const heard = ampio.modules.filter((m) => m.frames > 0);
  const online = heard.filter((m) => m.online).length;
  // Offline and low-supply modules first: what needs attention is never scrolled away.
  const rank = (m: (typeof ampio.modules)[number]) => (m.frames > 0 && !m.online ? 0 : supplyIsLow(m, ampio.lowSupplyVolts) ? 1 : m.frames === 0 ? 3 : 2);
  const modules = [...ampio.modules].sort((a, b) => rank(a) - rank(b) || a.address - b.address);
  const cells = modules.map((m) => [
    addressText(m.address),
    m.name ?? '-',
    m.model ?? '-',
    m.area ?? '-',
    m.supplyVolts === null ? '-' : `${m.supplyVolts.toFixed(1)} V`,
    m.temperatureC === null ? '-' : `${m.temperatureC} °C`,
    m.frames === 0 ? 'never' : ageText(now - m.lastSeen),
    m.frames === 0 ? 'never heard' : m.online ? 'online' : 'OFFLINE',
  ]);
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => truncate(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '), width);
  const visible = Math.max(0, height - 2);
  const shown = modules.slice(0, visible);
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text wrap="truncate">
        <Text bold color={theme.accent}>
          AMPIO MODULES
        </Text>
        <Text>
          {' '}
          {online} of {heard.length} online · {ampio.decode.frames} state frames
          {modules.length > visible ? ` · ${modules.length - visible} more: enlarge the terminal` : ''}
        </Text>
        {ampio.house.error ? <Text {...severityStyle(theme, 'warn')}> · house file: {ampio.house.error}</Text> : null}
      </Text>
      <Text {...severityStyle(theme, 'muted')}>{line(COLUMNS)}</Text>
      {shown.map((m, i) => {
        const severity = m.frames > 0 && !m.online ? 'error' : supplyIsLow(m, ampio.lowSupplyVolts) ? 'warn' : m.frames === 0 ? 'muted' : undefined;
        return (
          <Text key={m.address} wrap="truncate" {...(severity ? severityStyle(theme, severity) : {})}>
            {line(cells[i])}
          </Text>
        );
      })}
    </Box>
  );
}
