import type React from 'react';
import { Box, Text } from 'ink';
import { truncateStart } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';
import type { ConnectionView } from '../view.js';

export interface WaitingScreenProps {
  connection: ConnectionView;
  width: number;
  height: number;
}

/** What the person can do about each reason; the exact command where there is one. */
function hintFor(connection: ConnectionView): string[] {
  switch (connection.reason) {
    case 'permission':
      return [
        'Permission denied on the control socket.',
        'Add yourself to the ampio-bridge group: sudo usermod -aG ampio-bridge $USER (then log in again),',
        'or run top with sudo.',
      ];
    case 'bad_hello':
      return ['Something answered on that socket, but not an ampio-bridge of this version.', 'Check --control-socket, or update ampio-bridge.'];
    case 'timeout':
      return ['The bridge did not answer in time; it may be overloaded or stopping.'];
    case 'no_descriptors':
      return [
        'The bridge is out of file descriptors: it accepted and closed this connection at once.',
        'journalctl -u ampio-bridge shows who holds its connections (accept_exhausted); raise LimitNOFILE= if they are legitimate.',
      ];
    case 'lost':
      return ['The bridge went away (restarted or stopped). top reconnects by itself.'];
    default:
      return [
        'Start it with: sudo systemctl start ampio-bridge   (or: ampio-bridge serve …)',
        'A different socket? ampio-bridge top --control-socket PATH',
      ];
  }
}

export function WaitingScreen({ connection, width, height }: WaitingScreenProps): React.JSX.Element {
  const theme = useTheme();
  const path = truncateStart(connection.socketPath, Math.max(10, width - 30));
  const connecting = connection.phase === 'connecting';
  const retry =
    connection.retryInMs !== null && !connecting
      ? `attempt ${connection.attempt} · next try in ${(connection.retryInMs / 1000).toFixed(connection.retryInMs < 1000 ? 1 : 0)}s`
      : `attempt ${connection.attempt}`;
  return (
    <Box flexDirection="column" width={width} height={height} justifyContent="center" alignItems="center">
      <Text bold {...severityStyle(theme, connecting ? 'info' : 'warn')} wrap="truncate">
        {connecting ? 'connecting to' : 'waiting for'} the bridge at {path}…
      </Text>
      <Text {...severityStyle(theme, 'muted')} wrap="truncate">
        {retry}
        {connection.detail ? ` · ${connection.detail}` : ''}
      </Text>
      <Text> </Text>
      {connecting
        ? null
        : hintFor(connection).map((line) => (
            <Text key={line} wrap="truncate">
              {line}
            </Text>
          ))}
    </Box>
  );
}
