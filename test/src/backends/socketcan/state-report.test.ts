// The SocketCAN backend's (backend, bus) state report and its kernel drop counter, alone.
import { describe, expect, it } from 'vitest';
import { KernelDrops } from '../../../../src/backends/socketcan/kernel-drops.js';
import { StateReport } from '../../../../src/backends/socketcan/state-report.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { RecordingSink } from '../../../support/recording-sink.js';

describe('StateReport', () => {
  it('reports each (backend, bus) pair once, after the transition was acted on', () => {
    const sink = new RecordingSink();
    const order: string[] = [];
    const report = new StateReport(
      () => sink,
      (t) => order.push(`transition to ${t.to} (reported so far: ${sink.states.length})`),
    );
    report.apply(null, 'opening can0');
    report.set('open', report.tracker.link({ present: true, up: true }), 'can0 open');
    // The link looked at again, nothing changed: nothing is sent.
    report.set('open', report.tracker.link({ present: true, up: true }), 'can0 open');
    // CAN_ERR_BUSOFF: the detail is the transition's cause when none is given.
    report.apply(report.tracker.errorFrame(makeFrame({ id: 0x40, error: true, data: new Array(8).fill(0) })));
    report.set('absent', report.tracker.set('down', 'link down'), 'link down');
    expect(sink.states.map((s) => [s.backend, s.bus])).toEqual([
      ['opening', 'unknown'],
      ['open', 'error-active'],
      ['open', 'bus-off'],
      ['absent', 'down'],
    ]);
    expect(sink.states[2].detail).toBe('error frame: bus_off');
    expect(order).toEqual([
      'transition to error-active (reported so far: 1)',
      'transition to bus-off (reported so far: 2)',
      'transition to down (reported so far: 3)',
    ]);
  });
});

describe('KernelDrops', () => {
  it('counts across sockets (each counter starts at 0) and warns at most once per interval with the drops since the last warning', () => {
    let now = 0;
    const warnings: [number, number][] = [];
    const drops = new KernelDrops(
      () => now,
      (dropped, total) => warnings.push([dropped, total]),
      10_000,
    );
    drops.note(5);
    drops.note(9);
    expect(drops.total).toBe(9);
    drops.socketClosed();
    drops.note(2); // the next socket's own counter
    expect(drops.total).toBe(11);
    now = 10_000;
    drops.note(2);
    drops.note(0); // a stale, smaller reading never lowers the count
    expect(drops.total).toBe(11);
    expect(warnings).toEqual([
      [5, 5],
      [6, 11],
    ]);
  });
});
