// The serial backend against a REAL pseudo-terminal (socat) with an Ampio adapter emulator
// on the other side (test/support/ampio-adapter.ts). Wire vectors as in serial-codec.test.ts.
// The unplug/replug tests give the backend a manual clock for its poll, backoff and read
// timeout: the device I/O stays real, only the backend's sense of time is stepped by hand,
// so backoff schedules are checked exactly and without waiting them out.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSerialBackend, type SerialBackend, type SerialBackendOptions } from '../../../src/backends/serial.js';
import { makeFrame, type CanFrame } from '../../../src/core/frame.js';
import { AdapterEmulator, parseHostBytes, sleep } from '../../support/ampio-adapter.js';
import { ManualClock } from '../../support/manual-clock.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { originOf } from '../../support/origin.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const wall = () => performance.timeOrigin + performance.now();

let dir: string;
let emu: AdapterEmulator | null;
let backend: SerialBackend | null;
let sink: RecordingSink;
let clock: ManualClock;
const measured: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ampio-serial-'));
  sink = new RecordingSink();
  clock = new ManualClock();
  emu = null;
  backend = null;
});

afterEach(async () => {
  await backend?.stop();
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
  if (measured.length) process.stderr.write(`[serial] ${measured.splice(0).join('; ')}\n`);
});

/** The symlink stands for /dev/serial/by-id/usb-Ampio_…: stable across replugs. */
const devPath = () => join(dir, 'usb-Ampio_CAN-if00');

async function startBackend(over: Partial<SerialBackendOptions> = {}): Promise<SerialBackend> {
  backend = createSerialBackend({
    path: devPath(),
    baud: 115200,
    bitrate: 50000,
    txQueueSize: 1024,
    txMaxAge: 2000,
    now: () => performance.now(),
    wallClock: wall,
    ...over,
  });
  await backend.start(sink);
  return backend;
}

// Stated here rather than taken from the defaults, so the exact schedules below read plainly.
const POLL_MS = 200;
const REOPEN_INITIAL_MS = 500;
const READ_TIMEOUT_MS = 50;

/** A backend whose poll, reopen backoff and read timeout run on the manual clock. */
function startClockedBackend(over: Partial<SerialBackendOptions> = {}): Promise<SerialBackend> {
  return startBackend({
    now: clock.now,
    timers: clock,
    pollIntervalMs: POLL_MS,
    reopenInitialMs: REOPEN_INITIAL_MS,
    readTimeoutMs: READ_TIMEOUT_MS,
    ...over,
  });
}

/**
 * One poll interval of clock time. Resolves once the poll it fired (a stat, maybe an open:
 * real I/O) has finished, which it shows by arming the next poll.
 */
async function tick(): Promise<void> {
  const due = clock.now() + POLL_MS;
  expect(clock.dueTimes(), 'the next poll is armed').toContain(due);
  clock.advance(POLL_MS);
  await clock.whenArmed(due + POLL_MS, `the poll at ${due} ms to finish`);
}

/** Polls until `check()` holds (it may already, or turn true on a port event); returns the clock ms it took. */
async function ticksUntil(check: () => boolean, what: string, maxTicks = 20): Promise<number> {
  const t0 = clock.now();
  for (let k = 0; !check(); k++) {
    if (k === maxTicks) throw new Error(`${what}: not after ${maxTicks} polls; last state ${JSON.stringify(sink.state)}`);
    await tick();
  }
  return clock.now() - t0;
}

const isOpen = () => sink.state?.backend === 'open';
const isAbsent = () => sink.state?.backend === 'absent';
const ids = (frames: { frame: CanFrame }[]) => frames.map((r) => r.frame.id >>> 0);

// adapter → host: 2D D4 LEN=n+5 ID[4] data CHK
const RX_VECTORS: [string, number, string][] = [
  ['2D D4 0D 00 00 00 02 FE 10 19 09 19 04 01 20 AA', 0x80000002, 'fe101909190401 20'],
  ['2D D4 0D 00 00 1E 5A 34 7B 70 D7 94 10 0D F7 50', 0x80001e5a, '347b70d794100df7'],
  ['2D D4 0B 00 00 1F 55 A1 B2 C3 D4 E5 F6 71', 0x80001f55, 'a1b2c3d4e5f6'],
  ['2D D4 07 00 12 34 56 9A BC 26', 0x80123456, '9abc'],
  ['2D D4 08 00 1A BC DE DE AD BE 32', 0x801abcde, 'deadbe'],
  ['2D D4 07 00 00 01 23 AA BB BD', 0x80000123, 'aabb'],
  ['2D D4 06 00 00 00 01 AA DE', 0x80000001, 'aa'],
  ['2D D4 05 00 00 00 02 34', 0x80000002, ''],
];

describe('serial backend on a real PTY', () => {
  it('receives every RX vector, whole, byte by byte and in odd chunks', async () => {
    emu = await AdapterEmulator.start(devPath());
    // On the manual clock the read timeout cannot cut a frame whose next byte is late
    // because the machine is busy: this test is about reassembly, not about timeouts.
    await startClockedBackend();
    await sink.waitFor(isOpen, 'open');
    expect(sink.logs.some((l) => l.event === 'serial_open')).toBe(true);
    const all = Buffer.concat(RX_VECTORS.map(([w]) => hex(w)));
    const expected = RX_VECTORS.map(([, id]) => id);
    let want = 0;
    for (const chunk of [0, 1, 3, 7, 11]) {
      await emu.sendRaw(all, chunk, 1);
      want += expected.length;
      await sink.waitFor(() => sink.rx.length >= want, `${want} frames (chunk ${chunk})`);
      expect(ids(sink.rx.slice(want - expected.length))).toEqual(expected);
    }
    for (const [k, [, id, data]] of RX_VECTORS.entries()) {
      const f = sink.rx[k].frame;
      expect(f.id >>> 0).toBe(id);
      expect(Buffer.from(f.data).toString('hex')).toBe(data.replace(/\s/g, ''));
      expect(f.len).toBe(f.data.length);
      expect(f.fd).toBe(false);
      // stamped at read with the wall clock
      expect(Math.abs(f.timestamp - Date.now())).toBeLessThan(60_000);
    }
    expect(sink.malformedCount).toBe(0);
  });

  it('resynchronises after garbage, a bad checksum and LEN 14 without losing the next good frame', async () => {
    emu = await AdapterEmulator.start(devPath());
    await startBackend();
    await sink.waitFor(isOpen, 'open');
    const stream = Buffer.concat([
      hex('FF 00 13 37'), // garbage run
      hex('2D D4 07 00 00 01 23 AA BB BD'), // good 0x123
      hex('2D D4 06 00 00 00 01 AA 21'), // bad CHK
      hex('2D D4 07 00 12 34 56 9A BC 26'), // good 0x123456
      hex('2D D4 0E 00 00 01 23 01 02 03 04 05 06 07 08 09 8C'), // LEN 14: malformed for us
      hex('2D D4 05 00 00 00 02 34'), // good 0x2
    ]);
    await emu.sendRaw(stream);
    // The last good frame ends the stream: once it is delivered every byte was decoded.
    await sink.waitFor(() => sink.rx.length >= 3, '3 good frames');
    expect(ids(sink.rx)).toEqual([0x80000123, 0x80123456, 0x80000002]);
    // one for the garbage run, one for the bad CHK (its leftovers are the same resync),
    // one for LEN 14 (likewise)
    expect(sink.malformedCount).toBe(3);
    expect(backend!.stats().decoder).toMatchObject({ garbageRuns: 1, badChecksum: 1, badLength: 1 });
  });

  it('gives up a half frame after the read timeout, so a real frame behind a false preamble is not held back', async () => {
    emu = await AdapterEmulator.start(devPath());
    const b = await startClockedBackend();
    await sink.waitFor(isOpen, 'open');
    // A false preamble claiming 16 bytes, then a whole frame of 8: the decoder waits for more.
    await emu.sendRaw(hex('2D D4 0D' + '2D D4 05 00 00 00 02 34'));
    await clock.whenArmed(clock.now() + READ_TIMEOUT_MS, 'the bytes to arrive');
    expect(sink.rx).toHaveLength(0);
    clock.advance(READ_TIMEOUT_MS - 1);
    expect(sink.rx, 'held until the line has been quiet for the read timeout').toHaveLength(0);
    // The bytes may reach the backend in more than one read, each restarting the timeout:
    // step the clock until the quiet line releases the frame.
    await vi.waitFor(() => {
      clock.advance(READ_TIMEOUT_MS);
      expect(ids(sink.rx)).toEqual([0x80000002]);
    });
    expect(b.stats().decoder).toMatchObject({ truncated: 1, frames: 1 });
    expect(sink.malformedCount).toBe(1);
  });

  it('encodes TX byte for byte, in order, and reports each with its origin', async () => {
    emu = await AdapterEmulator.start(devPath());
    await startBackend();
    await sink.waitFor(isOpen, 'open');
    const cases: [CanFrame, string][] = [
      [makeFrame({ id: 0x80000123, data: [0xaa, 0xbb] }), '2D D4 09 02 82 00 00 01 23 AA BB 43'],
      [makeFrame({ id: 0x123, extended: false, data: [1, 2, 3] }), '2D D4 0A 02 83 00 00 01 23 01 02 03 E6'],
      [makeFrame({ id: 0x80000002 }), '2D D4 07 02 80 00 00 00 02 B8'],
      [makeFrame({ id: 0x80001e5a, data: [0x34, 0x7b, 0x70, 0xd7, 0x94, 0x10, 0x0d, 0xf7] }), '2D D4 0F 02 88 00 00 1E 5A 34 7B 70 D7 94 10 0D F7 DC'],
    ];
    for (const [k, [f]] of cases.entries()) expect(backend!.send(f, originOf(100 + k))).toEqual({ ok: true });
    const want = Buffer.concat(cases.map(([, w]) => hex(w)));
    const got = await emu.waitForBytes(want.length);
    expect(got.toString('hex')).toBe(want.toString('hex'));
    await sink.waitFor(() => sink.tx.length === 4, '4 transmitted');
    expect(sink.tx.map((t) => t.origin.session)).toEqual([100, 101, 102, 103]);
  });

  it('refuses what the adapter cannot send, each with its reason, and sends nothing for them', async () => {
    emu = await AdapterEmulator.start(devPath());
    await startBackend();
    await sink.waitFor(isOpen, 'open');
    const b = backend!;
    expect(b.send(makeFrame({ id: 0x123, rtr: true, len: 2 }), originOf(1))).toEqual({ ok: false, reason: 'unsupported' });
    expect(b.send(makeFrame({ id: 0x20000004, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }), originOf(1))).toEqual({ ok: false, reason: 'unsupported' });
    expect(b.send(makeFrame({ id: 0x123, fd: true, data: new Array(12).fill(1) }), originOf(1))).toEqual({ ok: false, reason: 'fd_unsupported' });
    expect(b.send({ ...makeFrame({ id: 0x123 }), len: 9, data: new Uint8Array(9) }, originOf(1))).toEqual({ ok: false, reason: 'malformed' });
    expect(b.send(makeFrame({ id: 0x80000042, data: [0x42] }), originOf(7))).toEqual({ ok: true });
    // A marker sent last: the device stream is ordered, so anything written for the refused
    // frames (before or after the accepted one) would arrive before the marker's bytes.
    expect(b.send(makeFrame({ id: 0x80000043 }), originOf(8))).toEqual({ ok: true });
    const got = await emu.waitForBytes(11 + 10);
    const marker = { id: 0x43, data: [], raw: '2dd407028000000043f9' };
    expect(parseHostBytes(got)).toEqual([
      { id: 0x42, data: [0x42], raw: '2dd40802810000004242'.concat(((0x08 + 0x2d + 0x02 + 0x81 + 0x42 + 0x42) & 0xff).toString(16).padStart(2, '0')) },
      marker,
    ]);
    expect(b.stats().tx.dropped).toMatchObject({ unsupported: 2, fd_unsupported: 1, malformed: 1 });
  });

  it('survives unplug and replug: absent while gone, TX refused, frames flow again at the first poll after replug, reopens = 1', async () => {
    emu = await AdapterEmulator.start(devPath());
    const b = await startClockedBackend();
    await sink.waitFor(isOpen, 'open');
    await emu.sendFrame(0x1e5a, [1]);
    await sink.waitFor(() => sink.rx.length === 1, 'first frame');

    // Unplug in the middle of a frame: the half frame is given up and counted.
    await emu.sendRaw(hex('2D D4 0D 00 00 1E'));
    // The backend holds the half frame once it arms the read timeout (the clock stands still,
    // so that timeout cannot release it before the unplug does).
    await clock.whenArmed(clock.now() + READ_TIMEOUT_MS, 'the half frame to arrive');
    await emu.unplug();
    // The port's close or, at the latest, the next poll of the device path notices it.
    const detectMs = await ticksUntil(isAbsent, 'unplug noticed');
    expect(detectMs).toBeLessThanOrEqual(POLL_MS);
    expect(sink.state!.bus).toBe('absent');
    expect(sink.logs.some((l) => l.event === 'serial_lost')).toBe(true);
    expect(b.send(makeFrame({ id: 0x80000001, data: [1] }), originOf(1))).toEqual({ ok: false, reason: 'link_down' });

    // The device stays gone for 3 s, longer than the first backoff steps (0.5, 1, 2 s): its
    // reappearance, not the backoff, decides when the next open is tried.
    for (let t = 0; t < 3000; t += POLL_MS) await tick();
    expect(isAbsent()).toBe(true);
    await emu.plug();
    await tick();
    expect(isOpen(), 'open at the first poll after replug').toBe(true);
    const tReplug = performance.now();
    await emu.sendFrame(0x1e5b, [2]);
    await sink.waitFor(() => sink.rx.length === 2, 'frame after replug', 2000);
    const firstFrameMs = sink.rx[1].at - tReplug;
    expect(ids(sink.rx)).toEqual([0x80001e5a, 0x80001e5b]);
    expect(b.send(makeFrame({ id: 0x80000002 }), originOf(1))).toEqual({ ok: true });
    await emu.waitForBytes(10);
    expect(emu.received.toString('hex')).toBe('2dd4070280000000' + '02b8');
    expect(b.counters().reopens).toBe(1);
    expect(b.stats().decoder.truncated).toBe(1);
    expect(sink.malformedCount).toBe(1);
    measured.push(
      `unplug noticed after ${detectMs} clock ms (0: by the port's close, ${POLL_MS}: by the path poll); open→first frame ${firstFrameMs.toFixed(1)} ms`,
    );
  });

  it('starts without the device (state absent, start() resolves) and opens at the first poll after it appears', async () => {
    emu = await AdapterEmulator.start(devPath(), { plugged: false });
    await startClockedBackend();
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'absent' });
    expect(sink.logs.find((l) => l.event === 'serial_open_failed')?.fields?.hint).toMatch(/does not exist/);
    // Missing for 1.6 s, past the first backoff steps (0.5, 1 s).
    for (let t = 0; t < 1600; t += POLL_MS) await tick();
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'absent' });
    await emu.plug();
    const openMs = await ticksUntil(isOpen, 'open after the device appeared');
    expect(openMs).toBe(POLL_MS);
    await emu.sendFrame(0x77, [7, 7]);
    await sink.waitFor(() => sink.rx.length === 1, 'a frame');
    expect(backend!.counters().reopens).toBe(0);
  });

  it('retries a path that exists but will not open on the backoff schedule (0.5 s doubling to 10 s), logs it once, and restarts the backoff when the path reappears', async () => {
    // A regular file where the device should be: the path exists, yet no serial port opens
    // on it (the real open fails: "Inappropriate ioctl for device").
    await writeFile(devPath(), '');
    await startClockedBackend({ reopenMaxMs: 10_000 });
    expect(sink.state).toMatchObject({ backend: 'absent', bus: 'absent' });
    // Every failed open reports the state again (with its hint): that marks the attempts.
    const attempts = [clock.now()];
    let seen = sink.states.length;
    while (clock.now() < 36_000) {
      await tick();
      if (sink.states.length > seen) attempts.push(clock.now());
      seen = sink.states.length;
    }
    const gaps = attempts.slice(1).map((t, k) => t - attempts[k]);
    // Each try waits out its backoff step and runs at the first poll after it.
    const steps = [500, 1000, 2000, 4000, 8000, 10_000, 10_000];
    expect(gaps).toEqual(steps.map((d) => Math.ceil(d / POLL_MS) * POLL_MS));
    expect(isOpen()).toBe(false);
    const failed = sink.logs.filter((l) => l.event === 'serial_open_failed');
    expect(failed, 'one log line per distinct problem, not one per retry').toHaveLength(1);
    expect(failed[0].fields).toMatchObject({ retry_ms: REOPEN_INITIAL_MS, hint: expect.stringMatching(/cannot open/) });

    // The file goes, a real device appears: it is tried at the first poll, not 10 s later.
    await rm(devPath());
    await tick();
    expect(sink.state?.detail).toMatch(/does not exist/);
    emu = await AdapterEmulator.start(devPath());
    expect(await ticksUntil(isOpen, 'open after the device appeared')).toBe(POLL_MS);
    await emu.sendFrame(0x78, [8]);
    await sink.waitFor(() => sink.rx.length === 1, 'a frame');
    expect(backend!.counters().reopens).toBe(0);
  });

  it('survives a device that flaps three times, counting each reopen', async () => {
    emu = await AdapterEmulator.start(devPath());
    const b = await startClockedBackend();
    await sink.waitFor(isOpen, 'open');
    for (let k = 1; k <= 3; k++) {
      await emu.unplug();
      await ticksUntil(isAbsent, `absent #${k}`);
      // gone for two polls, so the path watch has seen it missing
      await tick();
      await tick();
      await emu.plug();
      expect(await ticksUntil(isOpen, `open #${k}`), `reopen #${k} at the first poll after replug`).toBe(POLL_MS);
      await emu.sendFrame(0x100 + k, [k]);
      await sink.waitFor(() => sink.rx.length === k, `frame #${k}`, 2000);
    }
    expect(b.counters().reopens).toBe(3);
    expect(ids(sink.rx)).toEqual([0x80000101, 0x80000102, 0x80000103]);
  });

  it('notices a device replaced between two polls (unplug and replug back to back) and reopens it after the first backoff step', async () => {
    emu = await AdapterEmulator.start(devPath());
    const b = await startClockedBackend();
    await sink.waitFor(isOpen, 'open');
    await emu.unplug();
    await emu.plug();
    await ticksUntil(() => sink.states.some((s) => s.backend === 'absent'), 'loss noticed');
    const lostAt = clock.now();
    // The path never went missing for a poll, so the reopen waits for the backoff (0.5 s)
    // and happens at the first poll after it: not earlier, not later.
    const reopenMs = await ticksUntil(isOpen, 'reopened');
    expect(reopenMs).toBe(Math.ceil(REOPEN_INITIAL_MS / POLL_MS) * POLL_MS);
    expect(clock.now() - lostAt).toBe(reopenMs);
    await emu.sendFrame(0x5, [5]);
    await sink.waitFor(() => sink.rx.length === 1, 'a frame on the new device', 2000);
    expect(b.counters().reopens).toBe(1);
  });

  it('drops the TX backlog as link_down when the device vanishes (nothing replays after replug)', async () => {
    emu = await AdapterEmulator.start(devPath());
    const b = await startClockedBackend({ txMaxAge: 0 });
    await sink.waitFor(isOpen, 'open');
    emu.freeze(); // the adapter stops reading: the host's writes back up
    for (let i = 0; i < 200; i++) b.send(makeFrame({ id: 0x80000100, data: [i] }), originOf(1));
    await sleep(100); // let the writes back up until the port stops taking more
    expect(b.counters().txQueueDepth).toBeGreaterThan(0);
    const queued = b.counters().txQueueDepth;
    await emu.unplug();
    await ticksUntil(isAbsent, 'absent');
    expect(b.counters().txQueueDepth).toBe(0);
    expect(sink.dropCount('link_down')).toBe(queued);
    await emu.plug();
    await ticksUntil(isOpen, 'reopened');
    const before = emu.received.length;
    await sleep(300); // a replay would be written at once on open; nothing may arrive
    expect(emu.received.length).toBe(before);
  });

  it('queues TX while the adapter is not reading and drops what got older than --tx-max-age (no stale replay)', async () => {
    emu = await AdapterEmulator.start(devPath());
    const maxAge = 300;
    const b = await startBackend({ txMaxAge: maxAge });
    await sink.waitFor(isOpen, 'open');
    emu.freeze();
    const sentAt: number[] = [];
    const total = 300;
    for (let i = 0; i < total; i++) {
      sentAt.push(performance.now());
      expect(b.send(makeFrame({ id: 0x80000200, data: [i >> 8, i & 0xff] }), originOf(i)).ok).toBe(true);
      if (i % 50 === 49) await sleep(100);
    }
    await sleep(maxAge + 200);
    emu.thaw();
    await sink.waitFor(() => b.counters().txQueueDepth === 0, 'queue drained', 5000);
    // every frame handed to the device is on its way: wait for all of their bytes
    // (2D D4 LEN INS FLAGS ID[4] data CHK = 10 + len each)
    await emu.waitForBytes(sink.tx.reduce((n, t) => n + 10 + t.frame.len, 0));
    const stale = sink.dropCount('stale');
    const onWire = parseHostBytes(emu.received).map((f) => (f.data[0] << 8) | f.data[1]);
    expect(stale).toBeGreaterThan(0);
    expect(stale).toBe(b.stats().tx.dropped.stale);
    // every frame either reached the adapter or was dropped as stale, in order, no duplicates
    expect(onWire.length + stale).toBe(total);
    expect(onWire).toEqual([...onWire].sort((x, y) => x - y));
    expect(new Set(onWire).size).toBe(onWire.length);
    // and none was handed to the device later than maxAge after send()
    for (const t of sink.tx) expect(t.at - sentAt[t.origin.session]).toBeLessThanOrEqual(maxAge + 50);
    measured.push(`adapter blocked: ${onWire.length} of ${total} frames sent, ${stale} dropped as stale (tx-max-age ${maxAge} ms)`);
  });
});
