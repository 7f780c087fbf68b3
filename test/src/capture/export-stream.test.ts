// writeExport streams: a stalled reader stops the pulling of rows (memory does not follow
// the row count), and a reader that goes away ends the export with an error, not a hang.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { writeExport } from '../../../src/capture/export-stream.js';
import { interfaceDescription, sectionHeader } from '../../../src/capture/formats/pcapng.js';
import type { ExportFrame } from '../../../src/capture/formats/types.js';
import { makeFrame } from '../../../src/core/frame.js';

function* rows(counter: { pulled: number }, n = 1_000_000): Generator<ExportFrame> {
  for (let i = 0; i < n; i++) {
    counter.pulled++;
    yield {
      bus: 'can0',
      tsUs: 1_700_000_000_000_000 + i * 1000,
      direction: 'rx',
      frame: makeFrame({ id: 0x1d000000 + (i & 0xff), extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8], timestamp: 0 }),
    };
  }
}

for (const format of ['pcapng', 'asc', 'candump'] as const) {
  it(`${format}: a reader that stops taking bytes stops the rows being read`, async () => {
    const counter = { pulled: 0 };
    let writes = 0;
    const stalled = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, _done) {
        writes++; // never calls back: the reader is stuck
      },
    });
    const pending = writeExport(format, rows(counter), stalled, { buses: ['can0'] });
    await new Promise((r) => setTimeout(r, 100));
    expect(writes).toBe(1);
    // One 128 KB chunk of frames (60–70 bytes each), not the million.
    expect(counter.pulled).toBeLessThan(4000);
    stalled.destroy();
    await expect(pending).rejects.toThrow(/the output was closed/);
    expect(counter.pulled).toBeLessThan(4000);
  });
}

it('writes everything to a reader that keeps up, and counts what the format cannot hold', async () => {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const counter = { pulled: 0 };
  const all = [
    ...rows(counter, 5000),
    { bus: 'can0', tsUs: 1_700_000_005_000_000, direction: 'refused', frame: makeFrame({ id: 0x10, data: [], timestamp: 0 }) } as ExportFrame,
  ];
  const r = await writeExport('pcapng', all, sink, { buses: ['can0'] });
  expect(r).toEqual({ written: 5000, skipped: 1 });
  // SHB + IDB, then 60 bytes per classic-frame EPB.
  expect(Buffer.concat(chunks).length).toBe(sectionHeader().length + interfaceDescription('can0').length + 5000 * 60);
});
