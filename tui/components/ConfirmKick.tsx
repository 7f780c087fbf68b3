import type React from 'react';
import { Text } from 'ink';
import type { ClientSnapshot } from '../../src/control/protocol.js';
import { fit, formatAge } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';

export interface ConfirmKickProps {
  client: ClientSnapshot;
  now: number;
  width: number;
}

/** Takes the footer's place: a kick drops a live client (a light switch panel, a server…). */
export function ConfirmKick({ client, now, width }: ConfirmKickProps): React.JSX.Element {
  const theme = useTheme();
  const text = ` Kick client #${client.id} ${client.remote} (connected ${formatAge(Math.max(0, (now - client.connectedAt) / 1000))})?  y = kick, any other key = cancel `;
  return (
    <Text wrap="truncate" bold inverse color={theme.error}>
      {fit(text, width)}
    </Text>
  );
}
