// The capture_* metrics: present with their values when capture is on, absent when off (forwarder series only with --pg-url).
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

it('exports the store and forwarder figures, and nothing of them with capture off', async () => {
  const snap = fakeSnapshot({
    capture: {
      path: '/var/lib/ampio-bridge/capture.db',
      state: 'on',
      rows: 1000,
      bytes: 40960,
      oldestFrame: 1,
      newestFrame: 2,
      frames: 777,
      dropped: 5,
      queued: 0,
      evicted: 0,
      forward: {
        state: 'backing_off',
        target: 'postgres://u@db/can#can_frames',
        backlogRows: 250,
        lagSeconds: 12.5,
        rowsTotal: 750,
        errorsTotal: 3,
        lostTotal: 2,
        lastError: 'ECONNREFUSED',
      },
    },
  });
  const on = await createMetricsRegistry({
    source: { snapshot: () => snap, counters: () => counters },
    build: { version: 'x', commit: null, date: null },
    capture: { forwarding: true },
  }).metrics();
  for (const line of [
    'capture_frames_total 777',
    'capture_dropped_frames_total 5',
    'capture_bytes 40960',
    'capture_rows 1000',
    'capture_forward_backlog_rows 250',
    'capture_forward_lag_seconds 12.5',
    'capture_forward_rows_total 750',
    'capture_forward_errors_total 3',
    'capture_forward_lost_total 2',
    'capture_forward_connected 0',
  ])
    expect(on).toContain(`\n${line}\n`);
  const off = await createMetricsRegistry({
    source: { snapshot: () => fakeSnapshot(), counters: () => counters },
    build: { version: 'x', commit: null, date: null },
  }).metrics();
  expect(off).not.toMatch(/^capture_\w+ /m);
  const local = await createMetricsRegistry({
    source: { snapshot: () => ({ ...snap, capture: { ...snap.capture!, forward: null } }), counters: () => counters },
    build: { version: 'x', commit: null, date: null },
    capture: { forwarding: false },
  }).metrics();
  expect(local).toContain('\ncapture_rows 1000\n');
  expect(local).not.toMatch(/^capture_forward_\w+ /m);
});

it('capture_up is 1 while frames are recorded; capture_problem names the reason while it lasts', async () => {
  const base = { path: '/x.db', rows: 0, bytes: 0, oldestFrame: null, newestFrame: null, frames: 0, dropped: 0, queued: 0, evicted: 0, forward: null };
  const scrape = (capture: object) =>
    createMetricsRegistry({
      source: { snapshot: () => fakeSnapshot({ capture: capture as never }), counters: () => counters },
      build: { version: 'x', commit: null, date: null },
      capture: { forwarding: false },
    }).metrics();
  const ok = await scrape({ ...base, state: 'on', problem: null });
  expect(ok).toContain('\ncapture_up 1\n');
  expect(ok).not.toMatch(/^capture_problem\{/m);
  const full = await scrape({ ...base, state: 'on', problem: { reason: 'disk_full', message: 'm', hint: 'h', since: 1 } });
  expect(full).toContain('\ncapture_up 0\n');
  expect(full).toContain('\ncapture_problem{reason="disk_full"} 1\n');
  const off = await scrape({ ...base, state: 'failed', problem: { reason: 'corrupt', message: 'm', hint: 'h', since: 1 } });
  expect(off).toContain('\ncapture_up 0\n');
  expect(off).toContain('\ncapture_problem{reason="corrupt"} 1\n');
});
