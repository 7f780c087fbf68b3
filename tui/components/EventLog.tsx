import type React from 'react';
import { Box, Text } from 'ink';
import { formatClock, type LogEntry } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface EventLogProps {
  /** Oldest first; the newest `rows` are shown, newest at the bottom like a log tail. */
  entries: readonly LogEntry[];
  rows: number;
  width: number;
}

export function EventLog({ entries, rows, width }: EventLogProps): React.JSX.Element {
  const theme = useTheme();
  const shown = rows > 0 ? entries.slice(Math.max(0, entries.length - rows)) : [];
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color={theme.accent}>
          EVENTS
        </Text>
        {entries.length > shown.length ? (
          <Text {...severityStyle(theme, 'muted')}>
            {'  '}last {shown.length} of {entries.length}
          </Text>
        ) : null}
      </Text>
      <Box flexDirection="column" height={rows}>
        {shown.length === 0 ? (
          <Text {...severityStyle(theme, 'muted')}>  no events yet</Text>
        ) : (
          shown.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: two events may share a millisecond; the index breaks the tie in an append-only log
            <Text key={`${e.time}-${i}`} wrap="truncate">
              <Text {...severityStyle(theme, 'muted')}>  {formatClock(e.time)}  </Text>
              <Text {...severityStyle(theme, e.severity)}>{e.text}</Text>
            </Text>
          ))
        )}
      </Box>
    </Box>
  );
}
