// Keeps NetworkManager away from the CAN interfaces, so networkd alone configures them. A
// [device-*] section with managed=0 composes with other conf.d files, unlike keyfile's
// unmanaged-devices=, where the last file read wins and would silently undo someone else's
// setting.

import type { Templates } from '../package-files.js';
import { managedHeader, renderTemplate } from './render.js';

export function renderNmConf(t: Templates, o: { version: string; interfaces: string[] }): string {
  return renderTemplate(t['90-ampio-can.conf'], {
    header: managedHeader(o.version),
    nmMatch: o.interfaces.map((n) => `interface-name:${n}`).join(';'),
  });
}
