import React from 'react';
import { Box, Text } from 'ink';
import { truncate } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';
import type { UiMessage } from '../view.js';

export interface FooterProps {
  width: number;
  paused: boolean;
  /** Keys work only on an interactive terminal; `--once` shows none. */
  interactive: boolean;
  message: UiMessage | null;
}

const KEYS: [string, string][] = [
  ['q', 'quit'],
  ['↑↓', 'select'],
  ['K', 'kick'],
  ['s', 'sort'],
  ['p', 'pause'],
  ['m', 'modules'],
  ['?', 'help'],
];

export function Footer({ width, paused, interactive, message }: FooterProps): React.JSX.Element {
  const theme = useTheme();
  const keysWidth = KEYS.reduce((s, [k, l]) => s + k.length + l.length + 3, 0);
  const msgWidth = Math.max(0, width - keysWidth - 1);
  // A message that does not fit beside the keys takes the whole line for its few seconds:
  // a kick result cut to "kicked client #2 (10.0.0.…" would hide which client went.
  const keysShown = interactive && !(message && message.text.length > msgWidth);
  return (
    <Box width={width} justifyContent="space-between">
      {keysShown ? (
        <Text wrap="truncate">
          {KEYS.map(([k, label]) => (
            <Text key={k}>
              <Text bold inverse={theme.noColor} color={theme.key}>
                {k}
              </Text>
              <Text>{label === 'pause' && paused ? ' resume  ' : ` ${label}  `}</Text>
            </Text>
          ))}
        </Text>
      ) : interactive ? null : (
        <Text {...severityStyle(theme, 'muted')}>ampio-bridge top --once</Text>
      )}
      {message ? (
        <Text wrap="truncate" {...severityStyle(theme, message.severity)}>
          {truncate(message.text, keysShown ? msgWidth : width)}
        </Text>
      ) : paused ? (
        <Text bold {...severityStyle(theme, 'warn')}>
          PAUSED
        </Text>
      ) : null}
    </Box>
  );
}
