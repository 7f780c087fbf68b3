// What the running daemon says about its frame capture, for `doctor` and `capture`: they ask
// the daemon first (control socket) and fall back to the config file only when no daemon
// answers, so neither says "capture off" while the daemon it could have asked is capturing.
import { ControlClient, connectOptionsFor, resolveControlSocket } from '../control/control-client.js';
import type { CaptureSnapshot } from '../control/protocol.js';
import { describeCapture } from '../control/describe-capture.js';

export type DaemonCapture =
  /** No daemon answered on the control socket (not running, no permission, another path). */
  | { reached: false; socket: string; why: string }
  /** The daemon answered: its capture section, null when it does not capture. */
  | { reached: true; socket: string; pid: number; capture: CaptureSnapshot | null; time: number };

export async function askDaemonCapture(opts: {
  flag: string | null;
  env: Record<string, string | undefined>;
  systemRuntimeDir?: string;
  timeoutMs?: number;
}): Promise<DaemonCapture> {
  const resolved = resolveControlSocket({ flag: opts.flag, env: opts.env, role: 'client', systemRuntimeDir: opts.systemRuntimeDir });
  let client: ControlClient | null = null;
  try {
    client = await ControlClient.connect(resolved.path, { ...connectOptionsFor(resolved), timeoutMs: opts.timeoutMs ?? 2000 });
    const snap = await client.snapshot();
    return { reached: true, socket: resolved.path, pid: snap.daemon.pid, capture: snap.capture ?? null, time: snap.time };
  } catch (err) {
    return { reached: false, socket: resolved.path, why: (err as Error).message };
  } finally {
    client?.close();
  }
}

/** A doctor check (the shape of provisioning/doctor.ts Check and capture/doctor.ts CaptureCheck). */
export interface LiveCaptureCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  title: string;
  detail?: string;
  fix?: string;
}

/**
 * doctor's capture checks from the running daemon: what it is doing, and where the config
 * file says something else (a change that waits for a restart).
 */
export function liveCaptureChecks(live: Extract<DaemonCapture, { reached: true }>, cfg: Record<string, unknown>): LiveCaptureCheck[] {
  const configured = typeof cfg.capture === 'string' ? cfg.capture.trim() : '';
  const restart =
    'restart the service to apply the config file (`sudo systemctl restart ampio-bridge`); if it stays so, `journalctl -u ampio-bridge -e | grep capture` says why';
  const c = live.capture;
  if (c === null) {
    if (configured)
      return [
        {
          id: 'capture',
          status: 'warn',
          title: 'frame capture',
          detail: `off in the running daemon (pid ${live.pid}), though the config file sets --capture ${configured}`,
          fix: restart,
        },
      ];
    return [{ id: 'capture', status: 'ok', title: 'frame capture', detail: `off (the running daemon, pid ${live.pid}, does not capture)` }];
  }
  const [store, forward] = describeCapture(c, live.time);
  const checks: LiveCaptureCheck[] = [];
  const title = `capture store ${c.path} (running daemon)`;
  const p = c.problem ?? null;
  // A damaged store, a full disk: the daemon's own reason and next step (`capture recover`, free space).
  if (p)
    checks.push({ id: 'capture', status: 'fail', title, detail: `${store.text}: ${p.message}`, fix: `${p.hint} (the bus bridge keeps running without it)` });
  else if (c.state === 'failed')
    checks.push({
      id: 'capture',
      status: 'fail',
      title,
      detail: store.text,
      fix: '`journalctl -u ampio-bridge -e | grep capture` says why; the bus bridge keeps running without it',
    });
  else
    checks.push({
      id: 'capture',
      status: store.warn ? 'warn' : 'ok',
      title,
      detail: store.text,
      ...(store.warn ? { fix: c.dropped > 0 ? 'frames were dropped: a slow or full disk (`df -h`), or a store past --capture-max-size' : restart } : {}),
    });
  if (configured && configured !== c.path)
    checks.push({
      id: 'capture-config',
      status: 'warn',
      title: 'frame capture',
      detail: `the config file sets --capture ${configured}, the running daemon writes ${c.path}`,
      fix: restart,
    });
  if (forward)
    checks.push({
      id: 'pg',
      status: forward.warn ? 'warn' : 'ok',
      title: 'PostgreSQL forwarding (running daemon)',
      detail: forward.text,
      ...(forward.warn ? { fix: 'check --pg-url, the password and that the server accepts this host; the store keeps the backlog meanwhile' } : {}),
    });
  else if (typeof cfg['pg-url'] === 'string' && cfg['pg-url'].trim() !== '')
    checks.push({
      id: 'pg',
      status: 'warn',
      title: 'PostgreSQL forwarding',
      detail: 'the config file sets --pg-url, the running daemon does not forward',
      fix: restart,
    });
  return checks;
}
