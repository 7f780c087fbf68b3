// systemd-networkd `.network` for the CAN interfaces (Bookworm lacks ifupdown, so
// /etc/network/interfaces CAN stanzas are silently ignored): bitrate and bus-off
// restart survive a reboot, and boot never waits on CAN. Also: enabling networkd next to
// NetworkManager without letting its wait-online unit stall boot.

import type { Templates } from '../package-files.js';
import { managedHeader, renderTemplate } from './render.js';

export function renderNetworkFile(t: Templates, o: { version: string; interfaces: string[]; bitrate: number; restartMs: number }): string {
  return renderTemplate(t['80-ampio-can.network'], {
    header: managedHeader(o.version),
    interfaces: o.interfaces.join(' '),
    bitrate: o.bitrate,
    restartMs: o.restartMs,
  });
}

/** `systemctl` with `--root=DIR` when building an image: offline, touches only DIR. */
export function systemctl(root: string | null, ...args: string[]): string[] {
  return root ? ['systemctl', `--root=${root}`, ...args] : ['systemctl', ...args];
}

/**
 * Is this hand-made `.network` file (the go-ampio-server guide's can.network) about our
 * CAN interfaces? Only then is it ours to retire; anything else stays untouched.
 */
export function isManualCanNetwork(content: string, interfaces: string[]): boolean {
  if (!/^\s*\[CAN\]/m.test(content)) return false;
  const m = /^\s*Name\s*=\s*(.+)$/m.exec(content);
  if (!m) return false;
  return m[1].split(/\s+/).some((n) => interfaces.includes(n) || n === 'can*');
}
