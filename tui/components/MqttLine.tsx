import React from 'react';
import { Text } from 'ink';
import { describeMqtt, type MqttSnapshot } from '../../src/mqtt/snapshot.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface MqttLineProps {
  mqtt: MqttSnapshot;
  now: number;
}

/** One line: the MQTT broker link, what was published, the commands (shown only when MQTT is on). */
export function MqttLine({ mqtt, now }: MqttLineProps): React.JSX.Element {
  const theme = useTheme();
  const line = describeMqtt(mqtt, now, { compact: true });
  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        MQTT
      </Text>
      <Text {...(line.warn ? severityStyle(theme, 'warn') : {})}> {line.text.replace(/^mqtt /, '')}</Text>
    </Text>
  );
}
