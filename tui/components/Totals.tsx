import type React from 'react';
import { Text } from 'ink';
import type { Totals as TotalsData } from '../../src/control/protocol.js';
import { formatCount } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface TotalsProps {
  totals: TotalsData;
  width: number;
}

interface Item {
  long: string;
  short: string;
  value: number;
  /** Non-zero means something went wrong at least once. */
  bad: boolean;
}

/** One line of daemon-wide counters; labels shorten on a narrow terminal. */
export function Totals({ totals, width }: TotalsProps): React.JSX.Element {
  const theme = useTheme();
  const items: Item[] = [
    { long: 'active', short: 'active', value: totals.active, bad: false },
    { long: 'accepted', short: 'acc', value: totals.accepted, bad: false },
    { long: 'rejected (max clients)', short: 'rejected', value: totals.rejected, bad: true },
    { long: 'kicked', short: 'kicked', value: totals.kicked, bad: true },
    { long: 'handshake failures', short: 'hs-fail', value: totals.handshakeFailures, bad: true },
    { long: 'malformed', short: 'malformed', value: totals.malformed, bad: true },
    { long: 'hub drops', short: 'drops', value: totals.hubDrops, bad: true },
  ];
  const title = 'TOTALS ';
  const render = (label: (i: Item) => string, sep: string) =>
    items.map((i) => `${label(i)} ${formatCount(i.value)}`).join(sep);
  const useLong = title.length + render((i) => i.long, ' · ').length <= width;
  const label = (i: Item) => (useLong ? i.long : i.short);
  const sep = useLong ? ' · ' : '  ';

  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        TOTALS
      </Text>
      <Text> </Text>
      {items.map((i, n) => (
        <Text key={i.long}>
          {n > 0 ? <Text {...severityStyle(theme, 'muted')}>{sep}</Text> : null}
          <Text>{label(i)} </Text>
          <Text bold {...(i.bad && i.value > 0 ? severityStyle(theme, 'warn') : {})}>
            {formatCount(i.value)}
          </Text>
        </Text>
      ))}
    </Text>
  );
}
