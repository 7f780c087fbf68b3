// Running out of file descriptors on accept, with the built daemon under `ulimit -n 64`:
// logged (bounded), the control socket and /metrics keep answering, `status` says what is
// wrong, and clients get in again once descriptors are free.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/control-client.js';
import { BridgeChild, CLI } from '../support/bridge-child.js';
import { CannelloniListener, openFrom, sleep, type Watched } from '../support/hostile-clients.js';
import { until } from '../support/until.js';

const run = promisify(execFile);
const bridges: BridgeChild[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});

describe('out of file descriptors (ulimit -n 64)', () => {
  it('pauses accepting, logs once per interval with counts, keeps status and /metrics answering, and recovers', async () => {
    const b = await BridgeChild.start({
      shellPrefix: 'ulimit -n 64',
      args: [
        '--backend',
        'virtual',
        '--virtual-rate',
        '0',
        '--listen',
        '127.0.0.1:0',
        '--metrics-addr',
        '127.0.0.1:0',
        '--max-clients-per-host',
        '0',
        '--max-pending-per-host',
        '1024',
      ],
    });
    bridges.push(b);
    const port = b.port('cannelloni');
    const metricsAddr = String(b.events('metrics_listen')[0].addr);
    const base = b.openFds();
    // Idle connections (hello sent: real clients as far as the daemon knows) until it runs out.
    const held: Watched[] = [];
    for (let i = 0; i < 80; i++) {
      const c = await CannelloniListener.connect(port, { localAddress: `127.0.0.${2 + (i % 50)}` }).catch(() => null);
      if (c && !c.w.closed) held.push(c.w);
    }
    await b.waitFor((r) => r.event === 'accept_exhausted', 5000, 'accept_exhausted');
    // More attempts while exhausted: closed at once, counted, no new log lines.
    for (let i = 0; i < 40; i++) (await openFrom(port).catch(() => null))?.socket.destroy();
    await sleep(300);
    console.log(`descriptors: base ${base} fds, ${held.length} idle clients held, now ${b.openFds()} fds`);

    // The control socket answers, and status says what is wrong.
    const status = await run(process.execPath, [CLI, 'status', '--control-socket', b.controlSocket]).catch((e) => e as { stdout: string; stderr: string });
    expect(status.stdout + status.stderr).toContain('the daemon is out of file descriptors');
    expect(status.stdout + status.stderr).not.toMatch(/version/i);
    // /metrics answers too.
    const res = await fetch(`http://${metricsAddr}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^accept_paused 1$/m);
    expect(Number(/^accept_exhausted_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    // Logged once (per 10 s), not once per failed accept.
    expect(b.events('accept_exhausted').length).toBeLessThanOrEqual(2);

    // Descriptors come back: the next client gets in, and the recovery is logged once.
    for (const w of held) w.socket.resetAndDestroy();
    await sleep(1500);
    const after = await CannelloniListener.connect(port);
    expect(after.helloSeen).toBe(true);
    await b.waitFor((r) => r.event === 'accept_recovered', 3000, 'accept_recovered');
    const ctl = await ControlClient.connect(b.controlSocket);
    await until(async () => (await ctl.snapshot()).daemon.descriptors?.exhausted === false, 'the snapshot to show recovery', 3000);
    ctl.close();
  }, 40_000);
});
