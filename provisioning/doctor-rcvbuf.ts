// doctor's receive-buffer check (SocketCAN): the service runs unprivileged, so the kernel
// caps the --can-rcvbuf it asks for at net.core.rmem_max without telling it. A ceiling below
// the configured buffer means frames that arrive while the bridge is busy are dropped long
// before the buffer the config promises is full.

import type { Check } from './doctor-files.js';
import type { Fs } from './io/fs.js';
import { parseProcNumber } from './steps/rcvbuf-sysctl.js';
import { PATHS } from './types.js';

const TITLE = 'receive buffer ceiling (net.core.rmem_max)';

/** 212992 → "212992 bytes (208 KiB)": exact for commands, readable for people. */
export function describeBytes(n: number): string {
  const readable = n >= 1024 * 1024 ? `${+(n / (1024 * 1024)).toFixed(1)} MiB` : `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes (${readable})`;
}

/** The value our drop-in sets, or null when the file or the line is missing. */
function dropInValue(text: string | null): number | null {
  const m = /^\s*net\.core\.rmem_max\s*=\s*(\d+)\s*$/m.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Live: the running kernel's ceiling against `canRcvbuf` (serve's own reading of the config).
 * Offline (an image): the drop-in the image will load at boot. No /proc to read: skipped.
 */
export async function rcvbufCheck(fs: Fs, canRcvbuf: number, live: boolean): Promise<Check> {
  const want = describeBytes(canRcvbuf);
  if (canRcvbuf === 0)
    return { id: 'rcvbuf', status: 'ok', title: TITLE, detail: '--can-rcvbuf 0: the kernel default buffer (net.core.rmem_default), no ceiling needed' };
  const dropIn = dropInValue(await fs.readText(PATHS.sysctlConf));
  if (!live) {
    if (dropIn !== null && dropIn >= canRcvbuf)
      return { id: 'rcvbuf', status: 'ok', title: TITLE, detail: `${PATHS.sysctlConf} sets ${dropIn} at boot (--can-rcvbuf ${canRcvbuf})` };
    return {
      id: 'rcvbuf',
      status: 'warn',
      title: TITLE,
      detail: `${dropIn === null ? `no ${PATHS.sysctlConf} in the image: the unprivileged service will get only the kernel's default ceiling (212992 bytes on Debian)` : `${PATHS.sysctlConf} sets only ${describeBytes(dropIn)}: the unprivileged service will get at most that`} of its --can-rcvbuf ${want}, and frames are lost in bursts`,
      fix: 're-run `sudo ampio-bridge setup --root DIR` on this image (it writes that file)',
    };
  }
  const running = parseProcNumber(await fs.readText(PATHS.rmemMaxProc));
  if (running === null)
    return { id: 'rcvbuf', status: 'skip', title: TITLE, detail: `cannot read ${PATHS.rmemMaxProc} (not Linux, or /proc not mounted): not checked` };
  if (running >= canRcvbuf) return { id: 'rcvbuf', status: 'ok', title: TITLE, detail: `${running} ≥ --can-rcvbuf ${canRcvbuf}` };
  const detail = `the service (unprivileged) can get only ${describeBytes(running)} of its --can-rcvbuf ${want}: frames are lost in bursts`;
  // The file is there but the kernel runs with less: not loaded since, or a file read
  // after it (sysctl.d order, /etc/sysctl.conf) sets a lower value at boot.
  if (dropIn !== null && dropIn >= canRcvbuf) {
    return {
      id: 'rcvbuf',
      status: 'warn',
      title: TITLE,
      detail: `${detail} (${PATHS.sysctlConf} says ${dropIn}, but is not in effect)`,
      fix: `\`sudo sysctl -p ${PATHS.sysctlConf}\`, then \`sudo systemctl restart ampio-bridge\`; if it is lower again after a reboot, another file sets it: \`grep -r rmem_max /etc/sysctl.conf /etc/sysctl.d\``,
    };
  }
  return {
    id: 'rcvbuf',
    status: 'warn',
    title: TITLE,
    detail,
    fix: `\`sudo ampio-bridge setup\` (writes ${PATHS.sysctlConf}), or \`sudo sysctl -w net.core.rmem_max=${canRcvbuf}\` (until the next boot); then \`sudo systemctl restart ampio-bridge\``,
  };
}
