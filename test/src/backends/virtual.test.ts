// The virtual bus as a backend, driven directly through a recording sink: what a client
// sends is transmitted after send() returns, in order, with its origin; nothing queued is
// transmitted after stop(); and the sequence generator numbers its frames without gaps.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, SEQUENCE_BASE_ID, type VirtualBackend } from '../../../src/backends/virtual.js';
import { CAN_EFF_FLAG, type CanFrame } from '../../../src/core/frame.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { originOf } from '../../support/origin.js';

const frame = (id: number, byte: number): CanFrame => ({ id, len: 1, data: Uint8Array.of(byte), fd: false, fdFlags: 0, timestamp: 0 });

let backend: VirtualBackend | null = null;
afterEach(async () => {
  await backend?.stop();
  backend = null;
});

function make(rate = 0, fd = false): VirtualBackend {
  backend = createVirtualBackend({
    name: 'vbus',
    rate,
    payload: 'sequence',
    index: 1,
    bitrate: 50_000,
    fd,
    now: () => performance.now(),
    wallClock: () => performance.timeOrigin + performance.now(),
  });
  return backend;
}

describe('virtual backend: send', () => {
  it('transmits after send() returns, in order, each with its origin', async () => {
    const b = make();
    const sink = new RecordingSink();
    await b.start(sink);
    const sent = Array.from({ length: 50 }, (_, k) => frame(0x100 + k, k));
    for (const [k, f] of sent.entries()) expect(b.send(f, originOf(1 + (k % 3)))).toEqual({ ok: true });
    expect(sink.tx).toHaveLength(0); // as a socket write: not inside the sender's call
    await Promise.resolve();
    expect(sink.tx.map((t) => t.frame)).toEqual(sent);
    expect(sink.tx.map((t) => t.origin.session)).toEqual(sent.map((_, k) => 1 + (k % 3)));
    // A later turn's frames come after, in their own order.
    b.send(frame(0x200, 9), originOf(7));
    await Promise.resolve();
    expect(sink.tx.at(-1)).toMatchObject({ frame: { id: 0x200 }, origin: originOf(7) });
    expect(sink.tx).toHaveLength(51);
  });

  it('refuses FD frames on a classic bus and everything when stopped; drops what was queued at stop', async () => {
    const b = make(0, false);
    const sink = new RecordingSink();
    await b.start(sink);
    expect(b.send({ id: 0x1, len: 12, data: new Uint8Array(12), fd: true, fdFlags: 0, timestamp: 0 }, originOf(1))).toEqual({
      ok: false,
      reason: 'fd_unsupported',
    });
    expect(b.send(frame(0x2, 2), originOf(1))).toEqual({ ok: true });
    await b.stop();
    await Promise.resolve();
    expect(sink.tx).toHaveLength(0);
    expect(b.send(frame(0x3, 3), originOf(1))).toEqual({ ok: false, reason: 'link_down' });
  });
});

describe('virtual backend: sequence generator', () => {
  it('numbers frames 0, 1, 2 … with the bus id and a send time from the wall clock', async () => {
    const b = make(2000);
    const sink = new RecordingSink();
    const before = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 2 ** 32;
    await b.start(sink);
    await sink.waitFor(() => sink.rx.length >= 100, '100 generated frames');
    const frames = sink.rx.map((r) => r.frame);
    frames.forEach((f, k) => {
      expect(f.id).toBe((CAN_EFF_FLAG | (SEQUENCE_BASE_ID + 1)) >>> 0);
      expect(f.len).toBe(8);
      const view = new DataView(f.data.buffer, f.data.byteOffset, 8);
      expect(view.getUint32(0)).toBe(k);
      // Within a minute after start (mod 2^32 µs): a wrong unit or clock would be far off.
      expect((view.getUint32(4) - before) >>> 0).toBeLessThan(60_000_000);
    });
  });
});
