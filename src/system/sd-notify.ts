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

export type Notify = (state: 'ready' | 'stopping' | 'reloading', status?: string) => void;

const SENDER = [
  'import os, socket, sys, time',
  "addr = os.environ['NOTIFY_SOCKET']",
  "addr = '\\0' + addr[1:] if addr.startswith('@') else addr",
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.sendto(sys.argv[1].encode(), addr)',
  'time.sleep(2)',
].join('\n');

export function notifyMessage(state: 'ready' | 'stopping' | 'reloading', pid: number, status?: string): string {
  const lines = [state === 'ready' ? 'READY=1' : state === 'stopping' ? 'STOPPING=1' : 'RELOADING=1', `MAINPID=${pid}`];
  if (status) lines.push(`STATUS=${status.replace(/\n/g, ' ')}`);
  return lines.join('\n');
}

export function createSdNotify(env: Record<string, string | undefined>, log?: (error: string) => void): Notify {
  if (!env.NOTIFY_SOCKET) return () => {};
  return (state, status) => {
    const message = notifyMessage(state, process.pid, status);
    const child = execFile('python3', ['-c', SENDER, message], { env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET } }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        log?.(`sd_notify via python3 failed: ${err.message}`);
        return;
      }
      const args = [`--pid=${process.pid}`];
      if (state === 'ready') args.push('--ready');
      else args.push(state === 'stopping' ? 'STOPPING=1' : 'RELOADING=1');
      if (status) args.push(`--status=${status}`);
      execFile('systemd-notify', args, (e) => e && log?.(`systemd-notify failed: ${e.message}`));
    });
    child.unref();
  };
}
