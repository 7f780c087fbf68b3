import { describe, expect, it } from 'vitest';
import { createBackends } from '../../../src/backends/factory.js';
import { testConfig } from '../../support/daemon.js';

describe('createBackends', () => {
  it('socketcan: one backend per --can-if, each named after its interface, nothing opened yet', async () => {
    const backends = await createBackends(testConfig({ backend: 'socketcan', canIf: ['can0', 'can1'], bitrate: 125000 }));
    expect(backends.map((b) => b.info)).toEqual([
      { kind: 'socketcan', name: 'can0', fd: false, bitrate: 125000 },
      { kind: 'socketcan', name: 'can1', fd: false, bitrate: 125000 },
    ]);
    expect(backends.map((b) => b.counters())).toEqual([
      expect.objectContaining({ txQueueDepth: 0, reopens: 0 }),
      expect.objectContaining({ txQueueDepth: 0, reopens: 0 }),
    ]);
  });

  it('serial: one backend on --serial, the bus bitrate from --bitrate', async () => {
    const [b, ...rest] = await createBackends(testConfig({ backend: 'serial', serial: '/dev/serial/by-id/usb-Ampio', bitrate: 50000 }));
    expect(rest).toEqual([]);
    expect(b.info).toEqual({ kind: 'serial', name: '/dev/serial/by-id/usb-Ampio', fd: false, bitrate: 50000 });
    expect(typeof b.reconfigure).toBe('function');
  });

  it('virtual: one simulated bus per name', async () => {
    const backends = await createBackends(testConfig({ backend: 'virtual', canIf: ['v0', 'v1'] }));
    expect(backends.map((b) => [b.info.kind, b.info.name])).toEqual([
      ['virtual', 'v0'],
      ['virtual', 'v1'],
    ]);
  });
});
