import type React from 'react';
import { Text } from 'ink';
import { sparkline, type Severity } from '../format.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface SparklineProps {
  /** Samples, oldest first; one cell per sample. */
  values: readonly number[];
  width: number;
  /** Top of the scale; defaults to the next round step above the peak. */
  max?: number;
  severity?: Severity;
}

export function Sparkline({ values, width, max, severity = 'ok' }: SparklineProps): React.JSX.Element {
  const theme = useTheme();
  return <Text {...severityStyle(theme, severity)}>{sparkline(values, width, max)}</Text>;
}
