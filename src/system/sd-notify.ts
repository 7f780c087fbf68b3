// systemd readiness (Type=notify). Node cannot send on a unix datagram socket itself, so we
// ask systemd-notify(1) to send READY=1 on our behalf; the unit sets NotifyAccess=all so
// systemd accepts it from that child, and --pid names us as the main process. Without
// NOTIFY_SOCKET (not under systemd, tests) this is a no-op.
import { execFile } from 'node:child_process';

export type Notify = (state: 'ready' | 'stopping' | 'reloading', status?: string) => void;

export function createSdNotify(env: Record<string, string | undefined>, log?: (error: string) => void): Notify {
  if (!env.NOTIFY_SOCKET) return () => {};
  return (state, status) => {
    const args = [`--pid=${process.pid}`];
    if (state === 'ready') args.push('--ready');
    else if (state === 'stopping') args.push('STOPPING=1');
    else args.push('RELOADING=1');
    if (status) args.push(`--status=${status}`);
    execFile('systemd-notify', args, (err) => {
      if (err) log?.(`systemd-notify failed: ${err.message}`);
    });
  };
}
