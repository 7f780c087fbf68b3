// /etc/sysctl.d/60-ampio-bridge.conf: net.core.rmem_max at least the --can-rcvbuf the
// service asks for. The service runs unprivileged (no CAP_NET_ADMIN, which would let it do
// far more than this), so SO_RCVBUFFORCE is refused and the kernel silently caps SO_RCVBUF
// at rmem_max: on a stock Pi the bridge gets ~416 KiB whatever it asks for, and a burst
// while it is busy becomes kernel drops. Raising only the ceiling fixes that and grows no
// other program's sockets (rmem_default stays).

import { envNameFor, OPTIONS } from '../../src/config/options.js';
import { parseEnvironmentFile } from '../doctor-files.js';
import type { Templates } from '../package-files.js';
import type { Builder } from '../plan-builder.js';
import { PATHS, type Facts } from '../types.js';
import { managedHeader, renderTemplate } from './render.js';

export function renderSysctlConf(t: Templates, o: { version: string; rmemMax: number }): string {
  return renderTemplate(t['60-ampio-bridge.conf'], { header: managedHeader(o.version), rmemMax: o.rmemMax });
}

/** The kernel's number in /proc/sys (one decimal line), or null when absent or unreadable. */
export function parseProcNumber(text: string | null): number | null {
  const m = /^\s*(\d+)\s*$/.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * The ceiling to write: the can-rcvbuf the service will use, from the config file (in any
 * form serve accepts, e.g. "8M") or an override in the unit's environment file (which wins
 * for serve, so it counts here too), never below the option's default, so a later
 * `--can-rcvbuf` up to the default needs no second setup run.
 */
export function wantedRmemMax(store: Record<string, unknown>, envFile: string | null = null): number {
  const floor = OPTIONS.canRcvbuf.default;
  const fromEnv = parseEnvironmentFile(envFile)[envNameFor(OPTIONS.canRcvbuf.flag)];
  const raw = fromEnv ?? store[OPTIONS.canRcvbuf.flag];
  if (raw === undefined || raw === null) return floor;
  try {
    return Math.max(floor, OPTIONS.canRcvbuf.parse(String(raw)));
  } catch {
    // serve refuses this config anyway (and says why); the file still gets a useful ceiling.
    return floor;
  }
}

/**
 * Plans the file and, on the live system, loading it now (an image loads it at its first
 * boot, so --root plans no command). A running ceiling already at or above N is
 * left alone: `sysctl -p` would lower it, and whatever raised it may need it. Returns
 * whether the running ceiling rises now (the service then needs a restart to use it).
 */
export function planRcvbufSysctl(
  b: Builder,
  facts: Facts,
  o: { backend: string; version: string; templates: Templates; store: Record<string, unknown> },
): boolean {
  if (o.backend !== 'socketcan') {
    // A serial adapter has no socket buffer to raise: an earlier SocketCAN install's file goes.
    b.remove('remove-rcvbuf-sysctl', `Remove ${PATHS.sysctlConf} (only the SocketCAN backend needs it)`, PATHS.sysctlConf);
    return false;
  }
  const n = wantedRmemMax(o.store, facts.files[PATHS.envFile] ?? null);
  const changed = b.write(
    'rcvbuf-sysctl',
    `Receive-buffer ceiling ${PATHS.sysctlConf}: net.core.rmem_max = ${n}`,
    PATHS.sysctlConf,
    renderSysctlConf(o.templates, { version: o.version, rmemMax: n }),
    {
      mode: 0o644,
      why: `the service is unprivileged, so the kernel caps its --can-rcvbuf at net.core.rmem_max${facts.rmemMax === null ? '' : ` (now ${facts.rmemMax})`}; frames beyond that are dropped in bursts`,
    },
  );
  const running = facts.rmemMax;
  if (running === null) {
    // --root: the image's kernel reads the file at boot. Live without /proc/sys, sysctl
    // could not load it either.
    if (changed && facts.root === null)
      b.notice('info', `cannot read ${PATHS.rmemMaxProc} (is /proc mounted?): ${PATHS.sysctlConf} takes effect at the next boot`);
    return false;
  }
  if (running >= n) {
    // Said once, when the value in the file is new (not on every re-run's header update).
    const valueIsNew = !new RegExp(`^net\\.core\\.rmem_max = ${n}$`, 'm').test(facts.files[PATHS.sysctlConf] ?? '');
    if (changed && valueIsNew) {
      b.notice(
        'info',
        running === n
          ? `net.core.rmem_max is already ${n} in the running kernel: ${PATHS.sysctlConf} keeps it after a reboot.`
          : `net.core.rmem_max is already ${running} in the running kernel, more than the ${n} needed: not loaded now, so that stays until the next boot; ${PATHS.sysctlConf} keeps at least ${n} after it.`,
      );
    }
    return false;
  }
  b.command('rcvbuf-sysctl-load', `Load ${PATHS.sysctlConf} now (net.core.rmem_max ${running} → ${n})`, ['sysctl', '-p', PATHS.sysctlConf], {
    live: true,
    // Rollback puts the running value back too, not just the file (which only counts at boot).
    undo: ['sysctl', '-w', `net.core.rmem_max=${running}`],
    why: 'so the service gets its buffer at its next start, without waiting for a reboot',
  });
  // The socket's buffer is set when the service opens it: it needs a restart to profit.
  return true;
}
