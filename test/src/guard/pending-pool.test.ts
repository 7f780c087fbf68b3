import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostSlots } from '../../../src/guard/host-slots.js';
import { PendingPool } from '../../../src/guard/pending-pool.js';

describe('PendingPool', () => {
  it('a host over its share loses its own oldest pending connection', () => {
    const p = new PendingPool<number>({ perHost: 2, total: 100 });
    expect(p.add('a', 1)).toEqual([]);
    expect(p.add('b', 10)).toEqual([]);
    expect(p.add('a', 2)).toEqual([]);
    expect(p.add('a', 3)).toEqual([1]);
    expect(p.pendingOf('a')).toBe(2);
    expect(p.pendingOf('b')).toBe(1);
  });

  it('when full, the host with most pending pays', () => {
    const p = new PendingPool<string>({ perHost: 10, total: 4 });
    p.add('squat', 's1');
    p.add('squat', 's2');
    p.add('squat', 's3');
    p.add('real', 'r1');
    expect(p.add('real2', 'x')).toEqual(['s1']);
    expect(p.size).toBe(4);
  });

  it('remove forgets; reconfigure evicts what no longer fits', () => {
    const p = new PendingPool<number>({ perHost: 4, total: 10 });
    for (let i = 0; i < 4; i++) p.add('a', i);
    expect(p.remove('a', 2)).toBe(true);
    expect(p.remove('a', 2)).toBe(false);
    expect(p.reconfigure({ perHost: 1, total: 10 })).toEqual([0, 1]);
    expect(p.size).toBe(1);
  });

  it('property: a squatter never evicts another host while under the total, and bounds hold', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('sq', 'r1', 'r2'), fc.boolean()), { maxLength: 400 }), fc.integer({ min: 1, max: 8 }), (ops, perHost) => {
        const total = 64;
        const p = new PendingPool<number>({ perHost, total });
        const live = new Map<number, string>();
        let id = 0;
        for (const [host, finish] of ops) {
          if (finish && host !== 'sq') {
            // A real client finishes its handshake at once.
            const mine = [...live].find(([, h]) => h === host);
            if (mine) {
              p.remove(host, mine[0]);
              live.delete(mine[0]);
            }
            continue;
          }
          const n = id++;
          const evicted = p.add(host, n);
          for (const e of evicted) {
            expect(live.get(e)).toBe(host); // only the adding host's own, as total is never reached by 3 hosts × 8
            live.delete(e);
          }
          live.set(n, host);
          expect(p.pendingOf(host)).toBeLessThanOrEqual(perHost);
          expect(p.size).toBe(live.size);
        }
      }),
    );
  });
});

describe('HostSlots', () => {
  it('caps per host; 0 is unlimited', () => {
    const s = new HostSlots(2);
    expect(s.take('a')).toBe(true);
    expect(s.take('a')).toBe(true);
    expect(s.take('a')).toBe(false);
    expect(s.take('b')).toBe(true);
    s.release('a');
    expect(s.take('a')).toBe(true);
    s.release('b');
    expect(s.hosts).toBe(1);
    const u = new HostSlots(0);
    for (let i = 0; i < 100; i++) expect(u.take('x')).toBe(true);
  });
});
