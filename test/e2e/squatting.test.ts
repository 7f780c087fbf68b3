// Connections that never say hello, hosts that open too many, and a flood of refused
// connections, against the built daemon: real clients still get in, shares hold, and the
// daemon's descriptors, memory and log stay where they were.
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/control/protocol.js';
import { BridgeChild } from '../support/bridge-child.js';
import { CannelloniListener, closedSilently, openFrom, sleep, type Watched } from '../support/hostile-clients.js';

const bridges: BridgeChild[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});

async function start(args: string[]): Promise<BridgeChild> {
  const b = await BridgeChild.start({
    args: ['--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', ...args],
  });
  bridges.push(b);
  return b;
}

const snapshot = (b: BridgeChild): Promise<Snapshot> => b.snapshot();

describe('slot squatting', () => {
  it('--max-clients 4 plus sockets that never say hello, reopened faster than the handshake timeout: real clients still get in', async () => {
    const b = await start(['--max-clients', '4', '--handshake-timeout', '3s']);
    const port = b.port('cannelloni');
    // The squatter: 12 silent sockets from 127.0.0.9, the oldest replaced every 150 ms.
    const squat: Watched[] = [];
    let opened = 0;
    let stop = false;
    const squatter = (async () => {
      while (!stop) {
        try {
          squat.push(await openFrom(port, { localAddress: '127.0.0.9' }));
          opened++;
        } catch {
          // refused while paused or full: try again
        }
        if (squat.length > 12) squat.shift()!.socket.destroy();
        await sleep(150 / 12);
      }
    })();
    let maxPending = 0;
    try {
      await sleep(1500);
      const real: CannelloniListener[] = [];
      for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
        real.push(await CannelloniListener.connect(port, { localAddress: ip }));
        const s = await snapshot(b);
        maxPending = Math.max(maxPending, s.daemon.descriptors?.pending ?? 0);
      }
      expect(real.every((c) => c.helloSeen && !c.w.closed)).toBe(true);
      await sleep(1000);
      const s = await snapshot(b);
      expect(s.clients.map((c) => c.remote.replace(/:\d+$/, '')).sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
      // The squatter never held more than its share of pending handshakes.
      expect(maxPending).toBeLessThanOrEqual(8);
      expect(s.totals.rejectedByReason?.pending_evicted ?? 0).toBeGreaterThan(0);
      // A fifth real client finds the slots full of real clients: refused, nothing sent.
      const fifth = await openFrom(port, { localAddress: '127.0.0.6' });
      expect(await closedSilently(fifth)).toBe(true);
    } finally {
      stop = true;
      await squatter;
      for (const w of squat) w.socket.destroy();
    }
    const lines = b.records.filter((r) => String(r.remote ?? '').startsWith('127.0.0.9:')).length;
    console.log(`squatting: ${opened} squatter connections, ${lines} log lines about them, pending at most ${maxPending}`);
    expect(opened).toBeGreaterThan(50);
    expect(lines).toBeLessThanOrEqual(20);
  }, 20_000);

  it('--max-clients-per-host: a third client from one host is refused and counted; other hosts get in', async () => {
    const b = await start(['--max-clients-per-host', '2']);
    const port = b.port('cannelloni');
    await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    const third = await CannelloniListener.connect(port, { localAddress: '127.0.0.2' });
    await third.w.whenClosed;
    const other = await CannelloniListener.connect(port, { localAddress: '127.0.0.3' });
    expect(other.w.closed).toBe(false);
    const s = await snapshot(b);
    expect(s.clients).toHaveLength(3);
    expect(s.totals.rejectedByReason).toMatchObject({ max_clients_per_host: 1 });
  });
});

describe('1,000 refused connections', () => {
  it('leave descriptors and memory at their baseline and the log bounded', async () => {
    const b = await start(['--allow', '127.0.0.2/32']);
    const port = b.port('cannelloni');
    const refuse = async (n: number): Promise<number> => {
      let closed = 0;
      for (let i = 0; i < n; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => openFrom(port, { localAddress: '127.0.0.3' })));
        for (const w of batch) if (await closedSilently(w, 2000)) closed++;
      }
      return closed;
    };
    await refuse(100); // warm-up: JIT, buffers
    await sleep(300);
    const fds0 = b.openFds();
    const rss0 = b.rssBytes();
    const lines0 = b.lines;
    expect(await refuse(1000)).toBe(1000);
    await sleep(300);
    const fds1 = b.openFds();
    const rss1 = b.rssBytes();
    const lines = b.lines - lines0;
    console.log(`1,000 refused: fds ${fds0} → ${fds1}, RSS ${(rss0 / 1e6).toFixed(1)} → ${(rss1 / 1e6).toFixed(1)} MB, ${lines} log lines`);
    expect(fds1).toBeLessThanOrEqual(fds0);
    expect(rss1 - rss0).toBeLessThan(8 * 1024 * 1024);
    expect(lines).toBeLessThanOrEqual(2);
    // Stopping writes the summary of what was held back.
    await b.stop();
    bridges.splice(bridges.indexOf(b), 1);
    const summary = b.events('peer_log_suppressed').find((r) => r.host === '127.0.0.3');
    expect(String(summary?.message)).toMatch(/^… and 1,0\d\d more connection events from 127\.0\.0\.3 in the last \d+ s$/);
  }, 60_000);
});
