// systemd readiness (Type=notify). Node cannot send on a unix datagram socket itself, so a
// short-lived helper process sends READY=1 (with MAINPID=<our pid>) for us; the unit sets
// NotifyAccess=all so systemd accepts it from a process in our cgroup.
//
// Why python3 first and not systemd-notify(1): systemd attributes a notification to a unit
// by the sender's cgroup, and a sender that has already exited when systemd reads the
// datagram cannot be attributed, so the message is dropped (systemd 252 on Debian 12; see
// the "--pid" notes in systemd-notify(1)). A dropped READY=1 would make systemd kill a
// healthy bridge at TimeoutStartSec. The python helper stays alive for 2 s after sending.
// systemd-notify remains the fallback where python3 is missing. Without NOTIFY_SOCKET (not
// under systemd, tests) this is a no-op.
import { execFile } from 'node:child_process';

export type NotifyState = 'ready' | 'stopping' | 'reloading' | 'watchdog';
export type Notify = (state: NotifyState, status?: string) => void;

const STATE_LINE: Record<NotifyState, string> = { ready: 'READY=1', stopping: 'STOPPING=1', reloading: 'RELOADING=1', watchdog: 'WATCHDOG=1' };

const SENDER = [
  'import os, socket, sys, time',
  "addr = os.environ['NOTIFY_SOCKET']",
  "addr = '\\0' + addr[1:] if addr.startswith('@') else addr",
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.sendto(sys.argv[1].encode(), addr)',
  'time.sleep(2)',
].join('\n');

export function notifyMessage(state: NotifyState, pid: number, status?: string): string {
  const lines = [STATE_LINE[state], `MAINPID=${pid}`];
  if (status) lines.push(`STATUS=${status.replace(/\n/g, ' ')}`);
  return lines.join('\n');
}

/** The subset of child_process.execFile used here (replaceable in tests). */
export type ExecFile = typeof execFile;

export function createSdNotify(env: Record<string, string | undefined>, log?: (error: string) => void, run: ExecFile = execFile): Notify {
  if (!env.NOTIFY_SOCKET) return () => {};
  return (state, status) => {
    const message = notifyMessage(state, process.pid, status);
    const child = run('python3', ['-c', SENDER, message], { env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET } }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        log?.(`sd_notify via python3 failed: ${err.message}`);
        return;
      }
      const args = [`--pid=${process.pid}`];
      if (state === 'ready') args.push('--ready');
      else args.push(STATE_LINE[state]);
      if (status) args.push(`--status=${status}`);
      run('systemd-notify', args, (e) => e && log?.(`systemd-notify failed: ${e.message}`));
    });
    child.unref();
  };
}

/**
 * The keep-alive period systemd asks for (WatchdogSec= in the unit → WATCHDOG_USEC), or
 * null when there is no watchdog or it is meant for another process (WATCHDOG_PID).
 * Pinging at half the timeout, as sd_watchdog_enabled(3) recommends, leaves one missed
 * ping of slack before systemd restarts the service.
 */
export function watchdogPingIntervalMs(env: Record<string, string | undefined>, pid: number): number | null {
  if (!env.NOTIFY_SOCKET || !env.WATCHDOG_USEC) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export interface WatchdogTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const NODE_TIMERS: WatchdogTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Sends WATCHDOG=1 from a timer on the event loop, so a daemon whose loop is wedged (a
 * synchronous call that never returns, a busy loop) stops pinging and systemd restarts
 * it. Returns the function that stops the pings (call it before a clean shutdown). The
 * timer is unref'd: it never keeps a stopping process alive.
 */
export function startWatchdog(env: Record<string, string | undefined>, notify: Notify, timers: WatchdogTimers = NODE_TIMERS): () => void {
  const interval = watchdogPingIntervalMs(env, process.pid);
  if (interval === null) return () => {};
  notify('watchdog');
  const handle = timers.setInterval(() => notify('watchdog'), interval);
  return () => timers.clearInterval(handle);
}
