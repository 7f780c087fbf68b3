// The series of the optional layers: capture (--capture, --pg-url), MQTT (--mqtt-url) and the web page's server (--http-listen).
import type client from 'prom-client';
import type { Snapshot } from '../control/protocol.js';
import type { MetricFactory, Reading } from './metrics-source.js';

export function registerCaptureMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>, forwarding: boolean): void {
  const cap = (r: Reading): NonNullable<Snapshot['capture']> | null => r.snap.capture ?? null;
  const fwd = (r: Reading): NonNullable<NonNullable<Snapshot['capture']>['forward']> | null => r.snap.capture?.forward ?? null;
  counter('capture_frames_total', 'Frames committed to the capture store since start.', [], (m, r) => void (cap(r) && m.inc(cap(r)!.frames)));
  counter(
    'capture_dropped_frames_total',
    'Frames not recorded: capture queue full (slow disk) or a failed write.',
    [],
    (m, r) => void (cap(r) && m.inc(cap(r)!.dropped)),
  );
  gauge('capture_bytes', 'Size of the capture store on disk (database + WAL).', [], (m, r) => void (cap(r) && m.set(cap(r)!.bytes)));
  gauge('capture_rows', 'Frames held in the capture store.', [], (m, r) => void (cap(r) && m.set(cap(r)!.rows)));
  gauge('capture_up', '1 while frames are being recorded; 0 while capture is off (damaged store …) or writes fail (disk full …).', [], (m, r) => {
    const c = cap(r);
    if (c) m.set(c.state === 'on' && !c.problem ? 1 : 0);
  });
  gauge(
    'capture_problem',
    'Why capture is off or not recording (1 for the current reason: corrupt, disk_full, io_error, …); absent while all is well.',
    ['reason'],
    (m, r) => {
      const p = cap(r)?.problem;
      if (p) m.set({ reason: p.reason }, 1);
    },
  );
  if (!forwarding) return;
  gauge('capture_forward_backlog_rows', 'Captured frames not yet in PostgreSQL.', [], (m, r) => void (fwd(r) && m.set(fwd(r)!.backlogRows)));
  gauge(
    'capture_forward_lag_seconds',
    'Age of the oldest captured frame not yet in PostgreSQL (0 when caught up).',
    [],
    (m, r) => void (fwd(r) && m.set(fwd(r)!.lagSeconds)),
  );
  counter('capture_forward_rows_total', 'Frames written to PostgreSQL since start.', [], (m, r) => void (fwd(r) && m.inc(fwd(r)!.rowsTotal)));
  counter(
    'capture_forward_errors_total',
    'Failed PostgreSQL connections or batches (each is retried).',
    [],
    (m, r) => void (fwd(r) && m.inc(fwd(r)!.errorsTotal)),
  );
  counter(
    'capture_forward_lost_total',
    'Frames evicted from the store (retention, size) before they reached PostgreSQL.',
    [],
    (m, r) => void (fwd(r) && m.inc(fwd(r)!.lostTotal)),
  );
  gauge(
    'capture_forward_connected',
    '1 while the PostgreSQL forwarder is connected.',
    [],
    (m, r) => void (fwd(r) && m.set(fwd(r)!.state === 'connected' ? 1 : 0)),
  );
}

export function registerMqttMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>): void {
  const mq = (r: Reading): NonNullable<Snapshot['mqtt']> | null => r.snap.mqtt ?? null;
  gauge('mqtt_connected', '1 while connected to the MQTT broker.', [], (m, r) => void (mq(r) && m.set(mq(r)!.state === 'connected' ? 1 : 0)));
  counter('mqtt_connects_total', 'Successful connections to the MQTT broker (the first included).', [], (m, r) => void (mq(r) && m.inc(mq(r)!.connects)));
  counter(
    'mqtt_published_total',
    'Messages handed to the MQTT broker (retained state, discovery, raw frames).',
    [],
    (m, r) => void (mq(r) && m.inc(mq(r)!.published)),
  );
  counter(
    'mqtt_superseded_total',
    'State values given up unsent because a newer value of the same topic replaced them (broker away or slow).',
    [],
    (m, r) => void (mq(r) && m.inc(mq(r)!.superseded)),
  );
  gauge('mqtt_pending_topics', 'Retained topics changed and not yet sent (the broker is away or slow).', [], (m, r) => void (mq(r) && m.set(mq(r)!.pending)));
  counter('mqtt_commands_received_total', 'Messages on the command topics.', [], (m, r) => void (mq(r) && m.inc(mq(r)!.commands.received)));
  counter('mqtt_command_frames_sent_total', 'Frames of MQTT commands handed to the TX path.', [], (m, r) => void (mq(r) && m.inc(mq(r)!.commands.sent)));
  counter('mqtt_commands_refused_total', 'MQTT commands refused before the bus, by reason.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.commands.refused ?? {})) m.inc({ reason }, n);
  });
  counter('mqtt_commands_failed_total', 'MQTT command frames the bus refused (queue full, stale, device absent), by reason.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.commands.failed ?? {})) m.inc({ reason }, n);
  });
  counter('mqtt_raw_dropped_total', 'Raw frames not published (--mqtt-raw): over the rate, queue full, or broker away/slow.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.raw?.dropped ?? {})) m.inc({ reason }, n);
  });
}

export function registerWebMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>): void {
  const web = (r: Reading): NonNullable<Snapshot['web']> | null => r.snap.web ?? null;
  gauge('web_live_viewers', 'Browsers watching the live frames now.', [], (m, r) => void (web(r) && m.set(web(r)!.liveViewers)));
  counter('web_live_frames_total', 'Frames sent to live-frame viewers.', [], (m, r) => void (web(r) && m.inc(web(r)!.liveSent)));
  counter(
    'web_live_dropped_frames_total',
    'Frames live-frame viewers lost because their browser read too slowly (each loses its own only).',
    [],
    (m, r) => void (web(r) && m.inc(web(r)!.liveDropped)),
  );
  counter('web_rejected_connections_total', 'HTTP connections refused by --allow.', [], (m, r) => void (web(r) && m.inc(web(r)!.refused)));
  counter('web_writes_total', 'Writes through the web page or API (send, output, kick, reload), by result.', ['result'], (m, r) => {
    const w = web(r);
    if (!w) return;
    m.inc({ result: 'done' }, w.writesDone);
    m.inc({ result: 'refused' }, w.writesRefused);
  });
}
