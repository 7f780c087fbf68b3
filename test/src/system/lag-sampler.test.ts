import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Freshness, type FreshnessAction } from '../../../src/guard/freshness.js';
import { descriptorLimit, descriptorsInUse } from '../../../src/system/descriptors.js';
import { LagSampler, type LagTarget } from '../../../src/system/lag-sampler.js';

function target(key: string): LagTarget & { actions: FreshnessAction[] } {
  const freshness = new Freshness(2000);
  const actions: FreshnessAction[] = [];
  return { freshness, actions, tcpKey: () => key, nodeBuffered: () => 0, freshnessChanged: (a) => actions.push(a) };
}

describe('LagSampler', () => {
  it('reads the kernel queues only while some client has bytes in flight, and turns them into actions', async () => {
    let t = 0;
    let reads = 0;
    const kernel = new Map<string, number>();
    const a = target('a');
    const sampler = new LagSampler({ queues: { read: async () => (reads++, new Map(kernel)) }, targets: () => [a], now: () => t, policy: () => 'drop' });
    await sampler.tick();
    expect(reads).toBe(0); // nothing written yet: nothing to measure
    a.freshness.wrote(1000, 0);
    kernel.set('a', 1000);
    t = 500;
    await sampler.tick();
    t = 1200;
    await sampler.tick();
    kernel.set('a', 0);
    t = 1300;
    await sampler.tick();
    expect(a.actions).toEqual(['none', 'hold', 'resume']);
    expect(reads).toBe(3);
  });

  it('counts bytes written while the read was under way as unacknowledged', async () => {
    const a = target('a');
    a.freshness.wrote(10, 0);
    const sampler = new LagSampler({
      queues: {
        read: async () => {
          a.freshness.wrote(10, 1500); // a write lands while /proc is being read
          return new Map([['a', 0]]);
        },
      },
      targets: () => [a],
      now: () => 1600,
      policy: () => 'drop',
    });
    await sampler.tick();
    // The first 10 bytes were acknowledged; the second write (queued at 1500) is still out.
    expect(a.freshness.kernelLagMs).toBe(100);
  });

  it('without /proc it keeps working on the ring ages alone', async () => {
    const a = target('a');
    a.freshness.wrote(10, 0);
    const sampler = new LagSampler({ queues: { read: async () => null }, targets: () => [a], now: () => 5000, policy: () => 'kick' });
    await sampler.tick();
    expect(a.actions).toEqual(['none']);
  });
});

describe('descriptors', () => {
  it('reads the soft limit and counts open descriptors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-fd-'));
    const limits = path.join(dir, 'limits');
    fs.writeFileSync(
      limits,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n',
    );
    expect(descriptorLimit(limits)).toBe(1024);
    fs.writeFileSync(limits, 'Max open files            unlimited            unlimited            files\n');
    expect(descriptorLimit(limits)).toBeNull();
    expect(descriptorLimit(path.join(dir, 'none'))).toBeNull();
    const real = descriptorLimit();
    expect(real).toBeGreaterThan(0);
    const used = descriptorsInUse(real!)!;
    const fd = fs.openSync(limits, 'r');
    expect(descriptorsInUse(real!)).toBe(used + 1);
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true });
  });
});
