import type React from 'react';
import { Box, Text } from 'ink';
import type { Snapshot } from '../../src/control/protocol.js';
import { formatAge, formatClock, truncate, truncateStart, type Severity } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityGlyph, severityStyle } from '../theme.js';
import type { ConnectionView } from '../view.js';

export interface HeaderProps {
  snapshot: Snapshot | null;
  connection: ConnectionView;
  paused: boolean;
  width: number;
}

function connectionBadge(connection: ConnectionView, paused: boolean): { text: string; severity: Severity } {
  if (connection.phase === 'live') return paused ? { text: '⏸ paused', severity: 'warn' } : { text: `${severityGlyph('ok')} live`, severity: 'ok' };
  if (connection.phase === 'connecting') return { text: '◌ connecting', severity: 'info' };
  return { text: `${severityGlyph('error')} waiting`, severity: 'error' };
}

/** Two lines: who/what/how long on the left, connection state and clock on the right. */
export function Header({ snapshot, connection, paused, width }: HeaderProps): React.JSX.Element {
  const theme = useTheme();
  const badge = connectionBadge(connection, paused);
  const clock = snapshot ? formatClock(snapshot.time) : '';
  const right = clock ? `${badge.text}  ${clock}` : badge.text;

  let title: string;
  let detail: string;
  if (snapshot) {
    const d = snapshot.daemon;
    const version = d.commit ? `${d.version} (${d.commit.slice(0, 7)})` : d.version;
    title = `${d.name} ${version}`;
    detail = ` · ${d.hostname} · pid ${d.pid} · up ${formatAge(d.uptimeSec)}`;
  } else {
    title = 'ampio-bridge top';
    detail = '';
  }
  const leftWidth = Math.max(0, width - right.length - 1);
  const titleText = truncate(title, leftWidth);
  const detailText = truncate(detail, Math.max(0, leftWidth - titleText.length));

  let line2: string;
  if (snapshot) {
    const d = snapshot.daemon;
    const parts = [
      `backend ${d.backend}`,
      `listen ${d.listen.join(', ') || '–'}`,
      `mDNS ${d.mdnsName ?? 'off'}`,
    ];
    if (d.metricsAddr) parts.push(`metrics ${d.metricsAddr}`);
    line2 = parts.join(' · ');
    // The socket path is useful but least important: only when it fits whole.
    const sock = ` · socket ${d.controlSocket}`;
    if (line2.length + sock.length <= width) line2 += sock;
  } else {
    line2 = `control socket ${truncateStart(connection.socketPath, Math.max(10, width - 15))}`;
  }

  return (
    <Box flexDirection="column" width={width}>
      <Box width={width} justifyContent="space-between">
        <Text wrap="truncate">
          <Text bold color={theme.accent}>
            {titleText}
          </Text>
          <Text>{detailText}</Text>
        </Text>
        <Text {...severityStyle(theme, badge.severity)} bold>
          {right}
        </Text>
      </Box>
      <Text wrap="truncate" {...severityStyle(theme, 'muted')}>
        {truncate(line2, width)}
      </Text>
    </Box>
  );
}
