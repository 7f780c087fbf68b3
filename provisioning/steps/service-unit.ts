// The systemd unit: absolute node + script, no shell wrapper,
// Type=notify, Restart=on-failure (but not on exit 2, a bad config), ExecReload, RuntimeDirectory
// for the control socket, least privilege.

import path from 'node:path';
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
 * reopens it).
 */
export function deviceAllowFor(devicePath: string, resolved: string | undefined): string {
  const node = (resolved ?? devicePath).split('/').pop() ?? '';
  const m = /^(ttyUSB|ttyACM|ttyAMA|ttyS)\d+$/.exec(node);
  return m ? `char-${m[1]}` : devicePath;
}

/**
 * Documentation= points at the README installed with the package (dist/src/cli/main.js →
 * the package root), which exists offline and whatever way the package was installed.
 */
export function readmeFor(mainJs: string): string {
  const parts = mainJs.split('/');
  const dist = parts.lastIndexOf('dist');
  const root = dist > 0 ? parts.slice(0, dist).join('/') : path.posix.dirname(path.posix.dirname(mainJs));
  return `${root}/README.md`;
}

export { privilegedPort } from '../protocols.js';

export function renderUnit(
  t: Templates,
  o: {
    version: string;
    nodePath: string;
    mainJs: string;
    backend: 'socketcan' | 'serial';
    serialDevice?: string;
    serialResolved?: string;
    privileged?: { port: number; why: string } | null;
  },
): string {
  const serial = o.backend === 'serial';
  const bindPort = o.privileged?.port ?? null;
  return renderTemplate(t['ampio-bridge.service'], {
    unprivileged: bindPort === null,
    bindPrivileged: bindPort !== null,
    privilegedPort: bindPort ?? '',
    privilegedWhy: o.privileged?.why ?? '',
    header: managedHeader(o.version),
    readme: readmeFor(o.mainJs),
    execStart: execStartArgv(o.nodePath, o.mainJs).map(quoteArg).join(' '),
    serial,
    socketcan: !serial,
    deviceAllow: serial ? deviceAllowFor(o.serialDevice ?? '', o.serialResolved) : '',
  });
}
