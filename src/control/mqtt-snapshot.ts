// The `mqtt` section of the control-socket snapshot, and its one-line form for `status` and
// `top`. Pure (the TUI and `status` import it).

export interface MqttSnapshot {
  /** connecting (never connected yet), connected, disconnected (retrying), stopped. */
  state: 'connecting' | 'connected' | 'disconnected' | 'stopped';
  /** The broker URL, password redacted. */
  broker: string;
  prefix: string;
  /** ms since the epoch of the last state change. */
  since: number;
  connects: number;
  disconnects: number;
  lastError: string | null;
  /** The broker's address is outside --tx-allow: no command topics. */
  listenOnly: boolean;
  /** Retained topics the bridge keeps current (state, discovery, diagnostics). */
  topics: number;
  /** Of those, changed and not yet sent (the broker is away or slow). */
  pending: number;
  /** Messages handed to the broker (retained state/discovery, and raw frames). */
  published: number;
  /** Values given up unsent because a newer one of the same topic replaced them first (broker away or slow). */
  superseded: number;
  commands: {
    received: number;
    /** Frames of accepted commands put on the TX path. */
    sent: number;
    /** Commands refused before the bus (bad topic or payload, retained, TX guard), by reason. */
    refused: Record<string, number>;
    /** Frames the bus refused (queue full, stale, device absent …), by reason. */
    failed: Record<string, number>;
  };
  /** --mqtt-raw; absent when off. */
  raw?: { published: number; dropped: { rate: number; queue: number; broker: number } };
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** `mqtt connected · mqtt://broker:1883 · 1,234 published · 3 commands (0 refused, 0 failed)` */
export function describeMqtt(m: MqttSnapshot | undefined, now: number, opts: { compact?: boolean } = {}): { text: string; warn: boolean } {
  if (!m) return { text: 'mqtt off', warn: false };
  const refused = sum(m.commands.refused);
  const failed = sum(m.commands.failed);
  const ageSec = Math.max(0, Math.round((now - m.since) / 1000));
  const state = m.state === 'connected' ? 'connected' : `${m.state} ${ageSec}s`;
  const parts = [
    `mqtt ${state}`,
    ...(opts.compact ? [] : [m.broker]),
    ...(m.pending > 0 ? [`${m.pending} pending`] : []),
    `${m.published.toLocaleString('en-US')} published`,
    m.listenOnly ? 'listen-only' : `${m.commands.received} commands (${refused} refused, ${failed} failed)`,
    ...(m.raw
      ? [
          `raw ${m.raw.published.toLocaleString('en-US')} sent, ${(m.raw.dropped.rate + m.raw.dropped.queue + m.raw.dropped.broker).toLocaleString('en-US')} dropped`,
        ]
      : []),
    // Last: the longest part, and the first a narrow terminal cuts.
    ...(m.state !== 'connected' && m.lastError ? [m.lastError] : []),
  ];
  return { text: parts.join(' · '), warn: m.state !== 'connected' || failed > 0 };
}
