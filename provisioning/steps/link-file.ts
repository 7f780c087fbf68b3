// TX queue length that survives a reboot: a booted CAN interface has qlen 10 (ENOBUFS after
// 11 queued frames); 100 holds ~0.3 s at 50 kbit/s, more would replay stale commands after an
// outage. `TransmitQueueLength=` works only in a `.link` file, applied by udev
// when the interface appears. Needs systemd >= 248 (linux-can/can-utils#470); older systems
// get the udev rule in udev-rule.ts instead.

import type { Templates } from '../package-files.js';
import { managedHeader, renderTemplate } from './render.js';

export const TXQUEUELEN_WHY =
  'txqueuelen 100: the mcp251x driver keeps one frame in flight, so this queue is the only kernel TX buffer; 10 overflows (ENOBUFS) on a burst, 1000+ replays stale commands for seconds after a bus outage.';

/** First systemd version whose .link files know TransmitQueueLength=. */
export const LINK_TXQUEUELEN_MIN_SYSTEMD = 248;

export function renderLinkFile(t: Templates, o: { version: string; interfaces: string[]; txqueuelen: number }): string {
  return renderTemplate(t['80-ampio-can.link'], {
    header: managedHeader(o.version),
    txqueuelenWhy: TXQUEUELEN_WHY,
    interfaces: o.interfaces.join(' '),
    txqueuelen: o.txqueuelen,
  });
}
