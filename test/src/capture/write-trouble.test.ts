// A run of failing commits, on a hand-driven clock: one line when it starts, a reminder at
// most every 60 s while it lasts (with the frames lost since the last line), one line when
// a commit succeeds again; the problem (reason, message, hint, since) is there throughout.
import { expect, it } from 'vitest';
import { WriteTrouble } from '../../../src/capture/write-trouble.js';

const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });

it('says it once, reminds at most every 60 s with the frames lost, and logs the recovery', () => {
  const t = new WriteTrouble('/var/lib/ampio-bridge/capture.db');
  expect(t.succeeded(0)).toBeNull();
  const lines = [];
  let now = 1_000_000;
  // 3 minutes of a commit per second that fails, 100 frames each.
  for (let i = 0; i < 180; i++, now += 1000) {
    const line = t.failed(now, full, 100);
    if (line) lines.push({ at: now, ...line });
    expect(t.problem).toMatchObject({
      reason: 'disk_full',
      since: 1_000_000,
      message: expect.stringContaining('disk holding /var/lib/ampio-bridge/capture.db is full'),
      hint: expect.stringContaining('free space'),
    });
  }
  expect(lines.map((l) => [l.event, l.level])).toEqual([
    ['capture_write_failed', 'error'],
    ['capture_write_failing', 'warn'],
    ['capture_write_failing', 'warn'],
  ]);
  expect(lines[1].at - lines[0].at).toBe(60_000);
  expect(lines[2].at - lines[1].at).toBe(60_000);
  expect(lines[1].fields).toMatchObject({ reason: 'disk_full', for_s: 60, frames: 6000, total: 6100 });
  const back = t.succeeded(now);
  expect(back).toMatchObject({ level: 'info', event: 'capture_write_recovered', fields: { reason: 'disk_full', after_s: 180, frames_lost: 18_000 } });
  expect(t.problem).toBeNull();
  expect(t.succeeded(now + 1000)).toBeNull();
});

it('a different cause is a new problem, said at once', () => {
  const t = new WriteTrouble('/x.db', 60_000);
  expect(t.failed(0, full, 1)?.event).toBe('capture_write_failed');
  expect(t.failed(1000, io, 1)).toMatchObject({ event: 'capture_write_failed', fields: { reason: 'io_error' } });
  expect(t.problem?.reason).toBe('io_error');
});
