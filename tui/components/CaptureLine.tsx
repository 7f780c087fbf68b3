import type React from 'react';
import { Text } from 'ink';
import type { CaptureSnapshot } from '../../src/control/protocol.js';
import { describeCapture } from '../../src/control/describe-capture.js';
import { useTheme } from '../hooks/use-theme.js';
import { severityStyle } from '../theme.js';

export interface CaptureLineProps {
  capture: CaptureSnapshot;
  now: number;
}

/** One line: the capture store and its PostgreSQL forwarder (shown only when capture is on). */
export function CaptureLine({ capture, now }: CaptureLineProps): React.JSX.Element {
  const theme = useTheme();
  const lines = describeCapture(capture, now, { compact: true });
  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        CAPTURE
      </Text>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a fixed, positional list of at most three lines, rebuilt whole each render
        <Text key={i} {...(l.warn ? severityStyle(theme, 'warn') : {})}>
          {' '}
          {i === 0 ? l.text.replace(/^capture /, '') : l.text}
        </Text>
      ))}
    </Text>
  );
}
