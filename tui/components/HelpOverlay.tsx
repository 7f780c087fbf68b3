import type React from 'react';
import { Box, Text } from 'ink';
import { BUS_LOAD_ERROR, BUS_LOAD_WARN, NEAR_LIMIT_RATIO } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface HelpOverlayProps {
  width: number;
  height: number;
  intervalMs: number;
}

const KEYS: [string, string][] = [
  ['q  Ctrl-C', 'quit (the terminal is restored)'],
  ['↑ ↓  j k', 'select a client'],
  ['PgUp PgDn  g G', 'page / first / last client'],
  ['K', 'kick the selected client (asks y to confirm)'],
  ['s  S', 'cycle the sort column / reverse the order'],
  ['p', 'pause / resume updates'],
  ['m', 'Ampio modules / clients (top --modules starts there)'],
  ['?  Esc', 'show / hide this help'],
];

/** Replaces the body (like htop's help screen) so nothing underneath bleeds through. */
export function HelpOverlay({ width, height, intervalMs }: HelpOverlayProps): React.JSX.Element {
  const theme = useTheme();
  const keyWidth = Math.max(...KEYS.map(([k]) => k.length)) + 2;
  const legend: [string, string, 'error' | 'warn' | 'muted'][] = [
    ['!', 'row: the hub is dropping frames for this client now', 'error'],
    ['~', `row: queue ≥ ${Math.round(NEAR_LIMIT_RATIO * 100)}% of its buffer (--hub-buffer)`, 'warn'],
    ['●▲✖', `bus: ok / warning (load ≥ ${BUS_LOAD_WARN}%, error-passive) / error (load ≥ ${BUS_LOAD_ERROR}%, bus-off, absent)`, 'muted'],
  ];
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="round"
      borderColor={theme.accent}
      paddingX={1}
      overflow="hidden"
    >
      <Text bold color={theme.accent}>
        ampio-bridge top — keys
      </Text>
      {KEYS.map(([k, what]) => (
        <Text key={k} wrap="truncate">
          <Text bold color={theme.key}>
            {k.padEnd(keyWidth)}
          </Text>
          <Text>{what}</Text>
        </Text>
      ))}
      <Text> </Text>
      {legend.map(([mark, what, sev]) => (
        <Text key={mark} wrap="truncate">
          <Text bold {...severityStyle(theme, sev)}>
            {mark.padEnd(keyWidth)}
          </Text>
          <Text>{what}</Text>
        </Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate" {...severityStyle(theme, 'muted')}>
        refresh every {intervalMs >= 1000 ? `${intervalMs / 1000}s` : `${intervalMs}ms`} (--interval); OUT/IN per second
        are computed between refreshes
      </Text>
    </Box>
  );
}
