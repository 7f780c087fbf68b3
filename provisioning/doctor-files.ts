// doctor's file checks, the part that needs no running system (so `doctor --root` can do
// it on an image): the config as serve's own loader judges it with the unit's environment
// file, the unit (present, enabled, its ExecStart programs there) and the link settings.

import { iniValue } from './diagnose.js';
import type { Fs } from './io/fs.js';
import { PATHS } from './types.js';

/** `skip`: a live part that `doctor --root` cannot check on an image ("not checked offline"). */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

/** What `serve`'s own loader makes of the config (the shim passes loadConfig; provisioning cannot import it). */
export type ConfigVerdict =
  | {
      ok: true;
      backend: string;
      canIf: string[];
      serial: string;
      /** --bitrate when set (the daemon then checks the link against it), else null. */
      bitrate: number | null;
      listen: { host: string; port: number };
      metricsAddr: { host: string; port: number } | null;
      /** Every TCP listener the config has (config/listeners.ts), one per bus for per-bus ones. */
      listeners: Array<{ option: string; label: string; host: string; port: number }>;
      /** Servers the config dials out to (a protocol's `connect` option), one per bus. */
      dialTargets?: Array<{ protocol: string; option: string; bus: string; host: string; port: number }>;
      mdnsEnable: boolean;
      /** --can-rcvbuf, bytes (0 = the kernel default): what the SocketCAN sockets ask for. */
      canRcvbuf: number;
      /** --allow and --tx-allow as the loader read them (formatted: `local`, `any`, CIDRs). */
      allow: string;
      txAllow: string;
      warnings: string[];
    }
  | { ok: false; errors: string[]; warnings: string[] };

export interface Check {
  id: string;
  status: CheckStatus;
  title: string;
  detail?: string;
  fix?: string;
}

/** systemd EnvironmentFile= syntax: KEY=VALUE lines, # comments, optional quotes. */
export function parseEnvironmentFile(text: string | null): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of (text ?? '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    env[m[1]] = value;
  }
  return env;
}

/** Adds the config, unit and link-settings checks; returns serve's verdict (null: no config file). */
export async function checkConfigAndFiles(
  fs: Fs,
  validateConfig: (configPath: string, env: Record<string, string>) => ConfigVerdict | Promise<ConfigVerdict>,
  configPath: string,
  add: (c: Check) => void,
): Promise<ConfigVerdict | null> {
  // --- the daemon's config file, judged by serve's own loader with the unit's environment
  const envFile = await fs.readText(PATHS.envFile);
  let verdict: ConfigVerdict | null = null;
  if ((await fs.readText(configPath)) === null) {
    add({ id: 'config', status: 'fail', title: `config file ${configPath}`, detail: 'missing', fix: 'run `sudo ampio-bridge setup`' });
  } else {
    verdict = await validateConfig(configPath, parseEnvironmentFile(envFile));
    if (verdict.ok) {
      add({ id: 'config', status: 'ok', title: `config file ${configPath}`, detail: envFile === null ? undefined : `with ${PATHS.envFile}` });
    } else {
      add({
        id: 'config',
        status: 'fail',
        title: `config file ${configPath}`,
        detail: `serve refuses it (exit 2, and the service is not restarted): ${verdict.errors.join('; ')}`,
        fix: `fix ${configPath} (or ${PATHS.envFile}), check with \`ampio-bridge doctor\`, then \`sudo systemctl restart ampio-bridge\`; re-running \`sudo ampio-bridge setup\` rewrites it (it keeps a backup)`,
      });
    }
    if (verdict.warnings.length)
      add({ id: 'config-warnings', status: 'warn', title: 'config warnings (serve starts, but says)', detail: verdict.warnings.join('; ') });
  }

  // --- the files setup writes: unit, network configuration
  const unit = await fs.readText(PATHS.unit);
  if (unit === null) add({ id: 'unit', status: 'fail', title: `service unit ${PATHS.unit}`, detail: 'missing', fix: 'run `sudo ampio-bridge setup`' });
  else {
    const enabled = (await fs.lstat(PATHS.unitWants)) !== null;
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const program = execStart.split(' ').slice(0, 2);
    const missing: string[] = [];
    for (const p of program) if (p.startsWith('/') && !(await fs.stat(p))) missing.push(p);
    if (missing.length)
      add({
        id: 'unit',
        status: 'fail',
        title: `service unit ${PATHS.unit}`,
        detail: `ExecStart names ${missing.join(' and ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist`,
        fix: 're-run `sudo ampio-bridge setup` after installing or moving node/ampio-bridge',
      });
    else if (!enabled)
      add({
        id: 'unit',
        status: 'fail',
        title: `service unit ${PATHS.unit}`,
        detail: 'not enabled: it will not start at boot',
        fix: '`sudo systemctl enable ampio-bridge`',
      });
    else add({ id: 'unit', status: 'ok', title: `service unit ${PATHS.unit}`, detail: 'enabled' });
  }
  const backend = verdict?.ok ? verdict.backend : 'socketcan';
  if (backend === 'socketcan') {
    const network = await fs.readText(PATHS.network);
    const fallback = await fs.readText(PATHS.linkSetupUnit);
    if (network !== null)
      add({ id: 'network-files', status: 'ok', title: `CAN link settings ${PATHS.network}`, detail: `BitRate=${iniValue(network, 'CAN', 'BitRate') ?? '?'}` });
    else if (fallback !== null)
      add({ id: 'network-files', status: 'ok', title: `CAN link settings ${PATHS.linkSetupUnit}`, detail: 'ip link oneshot (no systemd-networkd)' });
    else
      add({
        id: 'network-files',
        status: 'fail',
        title: 'CAN link settings',
        detail: `neither ${PATHS.network} nor ${PATHS.linkSetupUnit}: after a reboot the links have no bitrate`,
        fix: 're-run `sudo ampio-bridge setup`',
      });
  }

  return verdict;
}
