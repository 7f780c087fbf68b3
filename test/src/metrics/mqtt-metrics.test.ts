// The mqtt_* metrics: present with their values when MQTT is on, absent when off.
import { expect, it } from 'vitest';
import type { DaemonCounters } from '../../../src/metrics/metrics-source.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { fakeSnapshot } from '../../support/fake-snapshot.js';

const counters: DaemonCounters = {
  tcpRxFrames: 0,
  tcpTxFrames: 0,
  errorsByWhere: {},
  handshakeFailuresByReason: {},
  drops: [],
  hubFanout: 0,
  hubQueueDepthMax: 0,
  hubQueueDepthAvg: 0,
  busLoad: [],
};
const build = { version: 'x', commit: null, date: null };

it('exports the broker link, what was published and the commands; nothing of them with MQTT off', async () => {
  const snap = fakeSnapshot({
    mqtt: {
      state: 'connected',
      broker: 'mqtt://u:***@h:1883',
      prefix: 'ampio/pi',
      since: 1,
      connects: 3,
      disconnects: 2,
      lastError: null,
      listenOnly: false,
      topics: 120,
      pending: 4,
      published: 9876,
      superseded: 55,
      commands: { received: 12, sent: 9, refused: { unknown_entity: 2, rate_limited: 1 }, failed: { stale: 1 } },
      raw: { published: 100, dropped: { rate: 7, queue: 0, broker: 3 } },
    },
  });
  const on = await createMetricsRegistry({ source: { snapshot: () => snap, counters: () => counters }, build, mqtt: true }).metrics();
  for (const line of [
    'mqtt_connected 1',
    'mqtt_connects_total 3',
    'mqtt_published_total 9876',
    'mqtt_superseded_total 55',
    'mqtt_pending_topics 4',
    'mqtt_commands_received_total 12',
    'mqtt_command_frames_sent_total 9',
    'mqtt_commands_refused_total{reason="unknown_entity"} 2',
    'mqtt_commands_refused_total{reason="rate_limited"} 1',
    'mqtt_commands_failed_total{reason="stale"} 1',
    'mqtt_raw_dropped_total{reason="rate"} 7',
    'mqtt_raw_dropped_total{reason="broker"} 3',
  ])
    expect(on).toContain(`\n${line}\n`);
  const off = await createMetricsRegistry({ source: { snapshot: () => fakeSnapshot(), counters: () => counters }, build }).metrics();
  expect(off).not.toMatch(/^mqtt_\w+/m);
});
