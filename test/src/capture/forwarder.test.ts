// The forwarder's bookkeeping in the store, without a server: a new target starts at the
// oldest frame still held, frames evicted before they were sent are counted as lost (once,
// persisted), and the URL shown anywhere carries no password.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PgForwarder } from '../../../src/capture/pg-forwarder.js';
import { parseTableName, quoteTable, redactUrl } from '../../../src/capture/pg-schema.js';
import { loadSqlite } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../src/capture/sqlite-store.js';
import type { ForwardStatus } from '../../../src/capture/worker-messages.js';
import { makeFrame } from '../../../src/core/frame.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-fwd-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('counts frames evicted before forwarding as lost, once, and remembers it across restarts', async () => {
  const Database = await loadSqlite();
  const store = CaptureStore.open(Database, { path: path.join(dir, 'c.db') });
  const t0 = Date.now() - 100_000;
  store.append(
    Array.from({ length: 1000 }, (_, i) => ({
      bus: 0,
      direction: 0,
      frame: makeFrame({ id: 0x1d000001, extended: true, data: [i & 255], timestamp: t0 + i * 100 }),
      session: 0,
      label: null,
    })),
    { 0: 'can0' },
  );
  const logs: string[] = [];
  let status: ForwardStatus | null = null;
  const settings = { url: 'postgres://bridge:s3cret@127.0.0.1:1/can', table: 'can_frames', display: redactUrl('postgres://bridge:s3cret@127.0.0.1:1/can') };
  const make = () =>
    new PgForwarder({
      store,
      settings,
      hostname: 'pi',
      log: (_l, event, fields) => logs.push(`${event} ${JSON.stringify(fields)}`),
      status: (s) => (status = s),
    });
  const fwd = make();
  expect(fwd.status()).toMatchObject({ backlogRows: 1000, lostTotal: 0, target: 'postgres://bridge@127.0.0.1:1/can#can_frames' });
  expect(fwd.status().lagSeconds).toBeGreaterThan(90);
  // Retention deletes the oldest 300 before PostgreSQL saw them.
  const { through } = store.evict({ nowMs: t0 + 100_000, retentionMs: 70_050, maxBytes: 0 });
  expect(through).toBe(300);
  fwd.evicted(through);
  expect(status!).toMatchObject({ lostTotal: through, backlogRows: 1000 - through });
  expect(logs.some((l) => l.startsWith('capture_forward_lost'))).toBe(true);
  fwd.evicted(through); // the same range again is not a new loss
  expect(fwd.status().lostTotal).toBe(through);
  expect(make().status()).toMatchObject({ lostTotal: through, backlogRows: 1000 - through });
  expect(logs.join('\n')).not.toContain('s3cret');
  store.close();
});

it('accepts plain and schema-qualified table names only, and quotes them', () => {
  expect(quoteTable('can_frames')).toBe('"can_frames"');
  expect(quoteTable('bus.frames')).toBe('"bus"."frames"');
  expect(() => parseTableName('frames; DROP TABLE x')).toThrow(/not a table name/);
  expect(redactUrl('postgresql://u:p@h:5432/db?sslmode=require')).toBe('postgresql://u@h:5432/db?sslmode=require');
});
