// Without systemd-networkd (a minimal image, or Debian 13 where it is its own package and
// apt cannot run offline), the CAN link settings still have to survive a reboot: a small
// oneshot unit runs `ip link` for each interface once its device exists. It sets the same
// three things the .network/.link files would: bitrate, restart-ms and txqueuelen.

import { managedHeader } from './render.js';

export const LINK_ONESHOT_UNIT = 'ampio-can-links.service';

/** systemd's device unit name for a network interface (no escaping needed for canN). */
function deviceUnit(iface: string): string {
  return `sys-subsystem-net-devices-${iface}.device`;
}

export function renderLinkOneshot(o: {
  version: string;
  interfaces: string[];
  bitrate: number;
  restartMs: number;
  txqueuelen: number;
  ipPath: string;
}): string {
  const devices = o.interfaces.map(deviceUnit).join(' ');
  const lines = [
    `# ${managedHeader(o.version)}`,
    '# CAN link settings at boot without systemd-networkd: bitrate, bus-off restart, txqueuelen.',
    '[Unit]',
    'Description=ampio-bridge: CAN link settings (bitrate, restart-ms, txqueuelen)',
    `Wants=${devices}`,
    `After=${devices}`,
    'Before=ampio-bridge.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
  ];
  for (const i of o.interfaces) {
    // "-": the link may already be down; that is not a failure.
    lines.push(`ExecStart=-${o.ipPath} link set ${i} down`);
    lines.push(`ExecStart=${o.ipPath} link set ${i} type can bitrate ${o.bitrate} restart-ms ${o.restartMs}`);
    lines.push(`ExecStart=${o.ipPath} link set ${i} txqueuelen ${o.txqueuelen}`);
    lines.push(`ExecStart=${o.ipPath} link set ${i} up`);
  }
  lines.push('', '[Install]', 'WantedBy=multi-user.target', '');
  return lines.join('\n');
}
