// The systemd unit (architecture.md §8.4): absolute node + script, no shell wrapper,
// Type=notify, Restart=on-failure, RuntimeDirectory for the control socket, least privilege.

import type { Templates } from '../package-files.js';
import { PATHS } from '../types.js';
import { managedHeader, renderTemplate } from './render.js';

/** systemd command-line quoting: plain words stay bare, anything else is double-quoted. */
function quoteArg(a: string): string {
  if (/^[\w@%+=:,./-]+$/.test(a)) return a;
  return `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function execStartArgv(nodePath: string, mainJs: string): string[] {
  return [nodePath, mainJs, 'serve', '--config', PATHS.configFile];
}

/**
 * DeviceAllow= for the serial adapter. A device *class* (char-ttyUSB) instead of the node
 * keeps access when the adapter is re-plugged and comes back as ttyUSB1 (the daemon
 * reopens it, user-needs #8).
 */
export function deviceAllowFor(devicePath: string, resolved: string | undefined): string {
  const node = (resolved ?? devicePath).split('/').pop() ?? '';
  const m = /^(ttyUSB|ttyACM|ttyAMA|ttyS)\d+$/.exec(node);
  return m ? `char-${m[1]}` : devicePath;
}

/** The port of a listen address when it is below 1024 (binding it needs CAP_NET_BIND_SERVICE), else null. */
export function privilegedPort(listen: string): number | null {
  const m = /:?(\d+)$/.exec(listen.trim());
  if (!m || listen.trim() === '') return null;
  const port = Number(m[1]);
  return port > 0 && port < 1024 ? port : null;
}

export function renderUnit(
  t: Templates,
  o: { version: string; nodePath: string; mainJs: string; backend: 'socketcan' | 'serial'; serialDevice?: string; serialResolved?: string; gvretListen?: string },
): string {
  const serial = o.backend === 'serial';
  const bindPort = privilegedPort(o.gvretListen ?? '');
  return renderTemplate(t['ampio-bridge.service'], {
    unprivileged: bindPort === null,
    bindPrivileged: bindPort !== null,
    privilegedPort: bindPort ?? '',
    header: managedHeader(o.version),
    execStart: execStartArgv(o.nodePath, o.mainJs).map(quoteArg).join(' '),
    serial,
    socketcan: !serial,
    deviceAllow: serial ? deviceAllowFor(o.serialDevice ?? '', o.serialResolved) : '',
  });
}
