// Fallback for systemd < 248 (no TransmitQueueLength= in .link files): a udev rule sets
// tx_queue_len when a CAN interface is added.

import type { Templates } from '../package-files.js';
import { managedHeader, renderTemplate } from './render.js';
import { TXQUEUELEN_WHY } from './link-file.js';

export function renderUdevRule(t: Templates, o: { version: string; interfaces: string[]; txqueuelen: number }): string {
  return renderTemplate(t['90-ampio-can.rules'], {
    header: managedHeader(o.version),
    txqueuelenWhy: TXQUEUELEN_WHY,
    interfacesUdev: o.interfaces.join('|'),
    txqueuelen: o.txqueuelen,
  });
}

/** The go-ampio-server guide's 10-can-queue.rules (txqueuelen 1000 on every can*). */
export function isManualQueueRule(content: string): boolean {
  return /tx_queue_len/.test(content) && /KERNEL=="can/.test(content);
}
