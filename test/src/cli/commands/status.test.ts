// `status` in-process against a real control socket served from a fake source.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatStatus, run } from '../../../../src/cli/commands/status.js';
import { createControlServer, type ControlServer } from '../../../../src/control/control-server.js';
import { captureCli } from '../../../support/cli-context.js';
import { FakeControlSource, fakeBus, fakeClient, fakeSnapshot } from '../../../support/fake-snapshot.js';

let dir: string;
let sock: string;
let server: ControlServer | null = null;
let source: FakeControlSource;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-status-'));
  sock = path.join(dir, 'control.sock');
  source = new FakeControlSource();
});
afterEach(async () => {
  await server?.stop();
  server = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startServer(): Promise<void> {
  server = createControlServer({ path: sock, source, helloInfo: { daemon: '0.1.0', pid: 4242 }, log: () => {} });
  await server.start();
}

const ESC = String.fromCharCode(27);
const hasAnsi = (s: string): boolean => s.includes(`${ESC}[`);

describe('ampio-bridge status', () => {
  it('--json prints the snapshot as-is', async () => {
    await startServer();
    const cli = captureCli();
    expect(await run(['--json', '--control-socket', sock], cli.ctx)).toBe(0);
    expect(JSON.parse(cli.stdout())).toEqual(fakeSnapshot());
    expect(cli.stderr()).toBe('');
  });

  it('human output: aligned tables, no colour when not a TTY', async () => {
    await startServer();
    const cli = captureCli();
    expect(await run(['--control-socket', sock], cli.ctx)).toBe(0);
    const out = cli.stdout();
    expect(hasAnsi(out)).toBe(false);
    const lines = out.split('\n');
    expect(lines[0]).toBe('ampio-bridge 0.1.0 (abc1234) · pid 4242 · up 1m 40s · backend socketcan · host pi');
    expect(lines[1]).toBe('listen 127.0.0.1:20000 · mDNS ampio-bridge-pi · metrics 127.0.0.1:9100 · control /run/ampio-bridge/control.sock');
    // bus table: header and row columns line up
    const header = lines.find((l) => l.startsWith('BUS'))!;
    const row = lines.find((l) => l.startsWith('can0'))!;
    expect(row).toMatch(/^can0\s+error-active\s+open\s+50 kbit\/s\s+1234\s+56\s+100\s+3\s+24\.6%\s+2\s+5\s+13\s+6\s+8\s+2\s+0\.3s ago$/);
    // right-aligned numbers end under their header
    expect(row.indexOf('1234') + 4).toBe(header.indexOf('RX') + 2);
    expect(out).toContain('can0 frames toward the bus dropped: stale 6, queue_full 7');
    const clientHeader = lines.find((l) => l.startsWith('ID'))!;
    const c1 = lines.find((l) => /^\s*1\s+cannelloni\s+can0\s+127\.0\.0\.1:40000/.test(l))!;
    expect(c1).toMatch(/127\.0\.0\.1:40000\s+1m 39s\s+1000\s+10\s+13000\s+130\s+0\/512\s+17\s+0\s+-\s+-$/);
    expect(c1.length).toBe(clientHeader.length);
    expect(out).toContain('totals: 2 active · 5 accepted · 1 rejected · 1 kicked · 1 handshake failures · 3 malformed · 10 hub drops');
  });

  it('colours only on a TTY, and never with NO_COLOR', async () => {
    await startServer();
    const tty = captureCli({ isTTY: true });
    expect(await run(['--control-socket', sock], tty.ctx)).toBe(0);
    expect(hasAnsi(tty.stdout())).toBe(true);
    const noColor = captureCli({ isTTY: true, env: { NO_COLOR: '1' } });
    expect(await run(['--control-socket', sock], noColor.ctx)).toBe(0);
    expect(hasAnsi(noColor.stdout())).toBe(false);
    // same text once the colour codes are removed
    expect(tty.stdout().replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '')).toBe(noColor.stdout());
  });

  it('daemon not running: one clear line on stderr and exit code 3', async () => {
    const cli = captureCli();
    expect(await run(['--control-socket', sock], cli.ctx)).toBe(3);
    expect(cli.stdout()).toBe('');
    const err = cli.stderr();
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(err).toContain('ampio-bridge is not running');
    expect(err).toContain(sock);
    expect(err).toContain('systemctl start ampio-bridge');
  });

  it('resolves the default socket from the environment like serve does', async () => {
    const runtime = path.join(dir, 'run');
    sock = path.join(runtime, 'control.sock');
    await startServer();
    const cli = captureCli({ env: { RUNTIME_DIRECTORY: runtime } });
    expect(await run(['--json'], cli.ctx)).toBe(0);
    expect(JSON.parse(cli.stdout()).daemon.pid).toBe(4242);
  });

  it('a daemon error reply exits 1 with the message', async () => {
    source.snapshot = () => {
      throw new Error('boom');
    };
    await startServer();
    const cli = captureCli();
    expect(await run(['--control-socket', sock], cli.ctx)).toBe(1);
    expect(cli.stderr()).toContain('could not take a snapshot');
  });

  it('bad flags exit 2 with a suggestion', async () => {
    const cli = captureCli();
    expect(await run(['--jsno'], cli.ctx)).toBe(2);
    expect(cli.stderr()).toContain('did you mean --json?');
    const t = captureCli();
    expect(await run(['--timeout', 'soon'], t.ctx)).toBe(2);
  });

  it('--help', async () => {
    const cli = captureCli();
    expect(await run(['--help'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain('Usage: ampio-bridge status');
  });
});

describe('formatStatus', () => {
  it('warns above 70 % load and shows unknown bitrate and no clients', () => {
    const s = fakeSnapshot({
      buses: [fakeBus({ busLoad: 75.25 }), fakeBus({ name: 'can1', bitrate: null, busLoad: 0, lastRxAgeSec: null, fd: true })],
      clients: [],
    });
    const out = formatStatus(s, { color: false });
    expect(out).toContain('! can0: bus load 75.3% is above 70%');
    expect(out).toMatch(/can1\s+error-active\s+open\s+\? FD\s/);
    expect(out).toMatch(/\s+never$/m);
    expect(out).toContain('no clients connected');
  });

  it('names the listeners of other protocols and the protocol of each client', () => {
    const base = fakeSnapshot();
    const s = fakeSnapshot({
      daemon: {
        ...base.daemon,
        listeners: [...base.daemon.listeners, { protocol: 'tcpcan', bus: 'can0', address: '127.0.0.1:20010' }],
      },
      clients: [fakeClient({ id: 7, protocol: 'tcpcan', remote: '127.0.0.1:41000' })],
    });
    const out = formatStatus(s, { color: false });
    expect(out.split('\n')[1]).toMatch(/^listen 127\.0\.0\.1:20000 · tcpcan 127\.0\.0\.1:20010 · mDNS/);
    expect(out).toMatch(/^ID\s+PROTOCOL\s+BUS\s+REMOTE/m);
    expect(out).toMatch(/^\s*7\s+tcpcan\s+can0\s+127\.0\.0\.1:41000/m);
  });

  it('shows capture off, or the store and the PostgreSQL forwarder with backlog and lag', () => {
    expect(formatStatus(fakeSnapshot(), { color: false })).toMatch(/^capture off$/m);
    const s = fakeSnapshot({
      capture: {
        path: '/var/lib/ampio-bridge/capture.db',
        state: 'on',
        rows: 1_234_567,
        bytes: 44 * 1024 * 1024,
        oldestFrame: fakeSnapshot().time - 3 * 3_600_000,
        newestFrame: fakeSnapshot().time,
        frames: 5000,
        dropped: 0,
        queued: 12,
        evicted: 0,
        forward: {
          state: 'backing_off',
          target: 'postgres://bridge@db/can#can_frames',
          backlogRows: 42_000,
          lagSeconds: 105,
          rowsTotal: 1_192_567,
          errorsTotal: 3,
          lostTotal: 0,
          lastError: 'connect ECONNREFUSED',
        },
      },
    });
    const out = formatStatus(s, { color: false });
    expect(out).toContain('capture on · 1,234,567 frames · 44 MiB · oldest 3.0 h ago · 0 dropped · /var/lib/ampio-bridge/capture.db');
    expect(out).toContain(
      '→ PostgreSQL backing off (connect ECONNREFUSED) · backlog 42,000 rows · lag 2 min · 1,192,567 sent · postgres://bridge@db/can#can_frames',
    );
  });

  it('says when the kernel dropped received frames, and counts unconfirmed transmissions', () => {
    const s = fakeSnapshot({
      buses: [fakeBus({ rxKernelDrops: 17, txUnconfirmed: 2, rxReadLate: 5 }), fakeBus({ name: 'can1', rxKernelDrops: 0, rxReadLate: 0 })],
    });
    const out = formatStatus(s, { color: false });
    expect(out).toContain(
      '! can0: the kernel dropped 17 received frames because the bridge read too late (raise --can-rcvbuf, see "ampio-bridge doctor" for the kernel\'s cap on it, or the host is overloaded)',
    );
    expect(out).toContain('can0 frames written but never confirmed on the bus: 2');
    expect(out).not.toContain('can1: the kernel dropped');
    expect(out).toContain('! can0: 5 received frames were read more than --client-max-lag after they arrived');
    expect(out).not.toContain('can1: 0 received frames');
  });
});

describe('status: hostile and slow clients', () => {
  it('says the daemon is out of file descriptors, and shows per client how far behind it is and what it was refused', () => {
    const base = fakeSnapshot();
    const snap = fakeSnapshot({
      daemon: {
        ...base.daemon,
        descriptors: { exhausted: true, sinceMs: 12_000, failures: 40, refused: 7, pending: 0 },
        config: { ...base.daemon.config, allow: 'local', 'tx-allow': '192.168.1.0/24', 'tx-rate': '100/20', 'tx-ids': 'every ID', 'client-max-lag': '2s' },
      },
      clients: [
        fakeClient({ id: 1, behindMs: 2400, staleDrops: 5, readOnly: true, txRefused: { read_only: 9, id_not_allowed: 0, rate_limited: 0 } }),
        fakeClient({ id: 2, remote: '192.168.1.5:4000', behindMs: 12, readOnly: false, txRefused: { read_only: 0, id_not_allowed: 3, rate_limited: 40 } }),
      ],
      totals: { ...base.totals, rejected: 12, rejectedByReason: { not_allowed: 10, max_clients_per_host: 2 }, resetBeforeAccept: 31 },
    });
    const text = formatStatus(snap, { color: false });
    expect(text).toContain('✗ the daemon is out of file descriptors (for 12s): 40 accept failures, 7 connections closed at once');
    expect(text).not.toMatch(/version/i);
    expect(text).toContain('allow local · tx-allow 192.168.1.0/24 · tx-rate 100/20/s · client-max-lag 2s');
    const rows = text.split('\n');
    expect(rows.find((l) => /^\s*1\s/.test(l))).toMatch(/2\.4 s\s+listen-only \(9\)$/);
    expect(rows.find((l) => /^\s*2\s/.test(l))).toMatch(/12 ms\s+rate 40, id 3$/);
    expect(text).toContain('rejected: not allowed 10, max clients per host 2');
    expect(text).toContain('reset by the peer before accept: 31');
  });

  it('shows what a protocol withheld from a client that cannot take it (SavvyCAN), so nothing is withheld silently', () => {
    const snap = fakeSnapshot({
      clients: [fakeClient({ id: 4, protocol: 'gvret', withheld: { zero_length: 3, rtr: 1, fd: 0 } }), fakeClient({ id: 5, protocol: 'gvret' })],
    });
    const text = formatStatus(snap, { color: false });
    expect(text).toContain('client 4 (gvret) frames withheld because it cannot take them: zero length 3, rtr 1');
    expect(text).not.toContain('client 5 (gvret) frames withheld');
  });

  it('with MQTT on: one line with the broker (password redacted), what was published and the commands', () => {
    const snap = fakeSnapshot({
      mqtt: {
        state: 'connected',
        broker: 'mqtt://bridge:***@192.168.1.10:1883',
        prefix: 'ampio/pi',
        since: 0,
        connects: 1,
        disconnects: 0,
        lastError: null,
        listenOnly: false,
        topics: 80,
        pending: 0,
        published: 2500,
        superseded: 0,
        commands: { received: 4, sent: 3, refused: { bad_payload: 1 }, failed: {} },
      },
    });
    const out = formatStatus(snap, { color: false });
    expect(out).toContain('mqtt connected · mqtt://bridge:***@192.168.1.10:1883 · 2,500 published · 4 commands (1 refused, 0 failed)\n');
    expect(formatStatus(fakeSnapshot(), { color: false })).not.toContain('mqtt');
  });
});
