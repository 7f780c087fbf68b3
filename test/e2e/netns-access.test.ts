// The default allow-list for every registered protocol, inside a private network namespace
// (`unshare -rn`) whose lo also carries a private address (192.168.77.1, fd00:77::1) and a
// documentation address (198.51.100.7, 2001:db8::7) standing in for a public one. Traffic
// never leaves the namespace.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/bridge-child.js';
import { requireHostTools } from '../support/host-tools.js';

const ADMITTED = ['127.0.0.1', '192.168.77.1', '::1', 'fd00:77::1'];
const REFUSED = ['198.51.100.7', '2001:db8::7'];

describe('--allow default (local) in a network namespace', () => {
  it('admits loopback and private sources and refuses the documentation (public) ones, for every protocol', () => {
    const setup = [
      'ip link set lo up',
      'ip addr add 192.168.77.1/32 dev lo',
      'ip addr add 198.51.100.7/32 dev lo',
      'ip -6 addr add fd00:77::1/128 dev lo nodad',
      'ip -6 addr add 2001:db8::7/128 dev lo nodad',
    ].join(' && ');
    requireHostTools('unshare', 'ip');
    const probe = path.join(REPO, 'test/support/netns-allow-probe.mjs');
    const out = execFileSync(
      'unshare',
      ['-rn', 'sh', '-c', `${setup} && exec "$0" "$1" "$2"`, process.execPath, probe, JSON.stringify([...ADMITTED, ...REFUSED])],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      listeners: Array<{ protocol: string; port: number }>;
      results: Array<{ protocol: string; source: string; admitted: boolean; bytes: number }>;
      metrics: string[];
      notAllowedLogs: Array<{ protocol: string; remote: string }>;
    };
    const protocols = [...new Set(r.listeners.map((l) => l.protocol))];
    expect(protocols.length).toBeGreaterThanOrEqual(2); // cannelloni and tcpcan at least
    for (const p of protocols) {
      for (const src of ADMITTED) expect([p, src, r.results.find((x) => x.protocol === p && x.source === src)?.admitted]).toEqual([p, src, true]);
      for (const src of REFUSED) {
        const x = r.results.find((y) => y.protocol === p && y.source === src);
        expect([p, src, x?.admitted, x?.bytes]).toEqual([p, src, false, 0]);
      }
      const perListener = r.listeners.filter((l) => l.protocol === p).length;
      expect(r.metrics).toContain(`hub_rejected_clients_total{reason="not_allowed",protocol="${p}"} ${REFUSED.length * perListener}`);
    }
    expect(r.notAllowedLogs.map((l) => l.remote.replace(/:\d+$/, '')).sort()).toEqual(expect.arrayContaining(['198.51.100.7', '[2001:db8::7]']));
  }, 90_000);
});
