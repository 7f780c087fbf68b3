// `ampio-bridge doctor`: read-only checks of everything setup arranged, each a ✓/✗/! line
// with the fix for a failure (pi-hole's piholeDebug.sh, as checks instead of a dump).
// Every read goes through the injected Fs/Runner/probes, so the tests run it on fixture
// transcripts; the CLI shim (src/cli/commands/doctor.ts) passes the real ones.

import type { Catalog } from './catalog.js';
import type { Fs } from './io/fs.js';
import type { Runner } from './io/runner.js';
import { type Check, checkConfigAndFiles, type ConfigVerdict } from './doctor-files.js';
import { busChecks } from './doctor-bus.js';
import { PATHS } from './types.js';
import { isPublicAddress, nonLocalEntries, OPTIONS, PROTOCOL_PLUGINS, type OptionName } from '../src/config/options.js';

export { type Check, type CheckStatus, type ConfigVerdict, parseEnvironmentFile } from './doctor-files.js';

export interface DoctorDeps {
  fs: Fs;
  runner: Runner;
  catalog: Catalog;
  /** Can we open a TCP connection to host:port? */
  probeTcp(host: string, port: number): Promise<boolean>;
  /** The control socket's hello, or why not. */
  probeControl(path: string): Promise<{ ok: boolean; detail: string }>;
  /** GET /ready on the metrics address; null when nothing answers. */
  probeReady(host: string, port: number): Promise<{ status: number; body: string } | null>;
  /** Instance names + ports advertised as _can-server._tcp; null when browsing is impossible. */
  browseMdns(): Promise<{ name: string; port: number }[] | null>;
  /** Path of the daemon config (--config). */
  configPath?: string;
  /** Validates the config exactly as `serve --config PATH` would, with the unit's environment. */
  validateConfig(configPath: string, env: Record<string, string>): ConfigVerdict | Promise<ConfigVerdict>;
  /** The control socket `status` would use (default /run/ampio-bridge/control.sock). */
  controlSocket?: string;
  /** Checking an image (`doctor --root DIR`): the live parts are listed as not checked. */
  offline?: boolean;
  /** Checks of the capture store and its PostgreSQL target (keys capture, pg-url, … of this config file); absent = not checked. */
  probeCapture?(configPath: string): Promise<Check[]>;
  /** Whether the MQTT broker of this config file accepts the bridge (one connection); absent = not checked. */
  probeMqtt?(configPath: string): Promise<Check[]>;
  /** Checks of the running bridge's Ampio modules (supply, offline, house file); absent = not checked. */
  probeAmpio?(): Promise<Check[]>;
}

const OFFLINE = 'not checked offline (needs the running Pi)';

export async function runDoctorChecks(d: DoctorDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const configPath = d.configPath ?? PATHS.configFile;

  const live = d.offline !== true;
  const skip = (id: string, title: string) => add({ id, status: 'skip', title, detail: OFFLINE });

  // --- the daemon's config file (serve's own judgement) and the files setup writes
  const verdict = await checkConfigAndFiles(d.fs, d.validateConfig, configPath, add);
  const backend = verdict?.ok ? verdict.backend : 'socketcan';
  const ifaces = verdict?.ok ? verdict.canIf : ['can0'];
  await busChecks(d, verdict, backend, ifaces, live, add, skip);

  // --- the service and what it serves
  const listen = verdict?.ok ? verdict.listen : null;
  // Offline, the socket that matters is the service's, not whatever this machine resolves.
  const controlSocket = live ? (d.controlSocket ?? PATHS.controlSocket) : PATHS.controlSocket;
  if (!live) {
    for (const [id, title] of [
      ['service', 'ampio-bridge.service active'],
      ['ports', 'TCP listeners'],
      ['control', `control socket ${controlSocket}`],
      ['ready', '/ready'],
      ['mdns', 'mDNS'],
    ])
      skip(id, title);
    return checks;
  }
  const active = await d.runner.run(['systemctl', 'is-active', 'ampio-bridge.service']).catch(() => null);
  const state = active?.stdout.trim() || 'unknown';
  add(
    state === 'active'
      ? { id: 'service', status: 'ok', title: 'ampio-bridge.service active' }
      : {
          id: 'service',
          status: 'fail',
          title: 'ampio-bridge.service active',
          detail: state,
          fix: '`sudo systemctl start ampio-bridge`; why it stopped: `journalctl -u ampio-bridge -e`',
        },
  );

  // Each protocol's listeners, as the config has them (one per bus where the protocol has one per bus).
  const unit = verdict?.ok && verdict.listeners.some((l) => l.port < 1024) ? await d.fs.readText(PATHS.unit) : null;
  for (const l of verdict?.ok ? verdict.listeners : []) {
    const plugin = PROTOCOL_PLUGINS.find((p) => p.listen === l.option);
    if (!plugin) continue; // metrics and the control socket have checks of their own below
    const host = l.host === '' || l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
    const id = `${plugin.name}-${l.port}`;
    const title = `${plugin.name} listening on ${host}:${l.port}`;
    const canBind = l.port >= 1024 || (unit !== null && /^AmbientCapabilities=.*CAP_NET_BIND_SERVICE/m.test(unit));
    const flag = OPTIONS[l.option as OptionName].flag;
    if (await d.probeTcp(host, l.port)) add({ id, status: 'ok', title });
    else if (!canBind)
      add({
        id,
        status: 'fail',
        title,
        detail: `port ${l.port} is below 1024 and the unit does not grant CAP_NET_BIND_SERVICE`,
        fix: `re-run \`sudo ampio-bridge setup\` (it grants that one capability for a port below 1024 its protocol needs), or use a port above 1023 (--${flag})`,
      });
    else
      add({
        id,
        status: 'fail',
        title,
        detail: 'nothing accepts connections',
        fix: plugin.setup?.doctorFix ?? 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (port in use?)',
      });
  }
  // Servers the bridge dials out to: reachable from here, or the link stays down (it retries).
  for (const t of verdict?.ok ? (verdict.dialTargets ?? []) : []) {
    const id = `${t.protocol}-connect-${t.bus}`;
    const title = `${t.protocol} server ${t.host}:${t.port} reachable (dial-out for ${t.bus})`;
    const flag = OPTIONS[t.option as OptionName].flag;
    if (await d.probeTcp(t.host, t.port)) add({ id, status: 'ok', title });
    else
      add({
        id,
        status: 'fail',
        title,
        detail: 'nothing accepts connections there',
        fix: `start the ${t.protocol} server there (port + 1 for each further bus), check the address (--${flag}) and that the network lets this machine out; the bridge keeps retrying (backoff up to 60 s)`,
      });
  }
  if (verdict?.ok) for (const c of accessChecks({ allow: verdict.allow, 'tx-allow': verdict.txAllow }, listen?.host ?? '')) add(c);
  const control = await d.probeControl(controlSocket);
  add(
    control.ok
      ? { id: 'control', status: 'ok', title: `control socket ${controlSocket}`, detail: control.detail }
      : {
          id: 'control',
          status: 'fail',
          title: `control socket ${controlSocket}`,
          detail: control.detail,
          fix: control.detail.includes('permission')
            ? 'add yourself to the ampio-bridge group (`sudo usermod -aG ampio-bridge $USER`, then log in again) or use sudo'
            : 'is the service running?',
        },
  );

  const m = verdict?.ok ? verdict.metricsAddr : null;
  if (m) {
    const host = m.host === '' || m.host === '0.0.0.0' ? '127.0.0.1' : m.host === '::' ? '::1' : m.host;
    const r = await d.probeReady(host, m.port);
    if (r?.status === 200) add({ id: 'ready', status: 'ok', title: `/ready on ${host}:${m.port}` });
    else
      add({
        id: 'ready',
        status: 'fail',
        title: `/ready on ${host}:${m.port}`,
        detail: r ? `${r.status} ${r.body.trim().slice(0, 200)}` : 'no answer',
        fix: r ? 'the body says which part is not ready (backend, link, listener, bus-off)' : 'is the service running with this --metrics-addr?',
      });
  }
  if (verdict?.ok && verdict.mdnsEnable) {
    const found = await d.browseMdns();
    const ports = new Set<number>();
    if (listen) for (let k = 0; k < (backend === 'socketcan' ? Math.max(1, ifaces.length) : 1); k++) ports.add(listen.port + k);
    if (found === null) add({ id: 'mdns', status: 'warn', title: 'advertised over mDNS', detail: 'could not browse the network' });
    else if (found.some((f) => ports.has(f.port)))
      add({
        id: 'mdns',
        status: 'ok',
        title: 'advertised over mDNS',
        detail: found
          .filter((f) => ports.has(f.port))
          .map((f) => f.name)
          .join(', '),
      });
    else
      add({
        id: 'mdns',
        status: 'fail',
        title: 'advertised over mDNS',
        detail: 'no _can-server._tcp service on our ports answered',
        fix: 'is UDP 5353 blocked, or another mDNS responder holding the port? `journalctl -u ampio-bridge | grep mdns`',
      });
  }
  // --- frame capture (store, retention, PostgreSQL)
  if (d.probeCapture && live) for (const c of await d.probeCapture(configPath)) add(c);
  // --- MQTT (the broker accepts the bridge)
  if (d.probeMqtt && live) for (const c of await d.probeMqtt(configPath)) add(c);
  // --- the Ampio modules the running bridge hears
  if (d.probeAmpio && live && control.ok) for (const c of await d.probeAmpio()) add(c);
  return checks;
}

/**
 * Who may reach the bus ports. None of the protocols has a password, so an allow-list that
 * admits public addresses (or `any`), or a listener bound to a public address, is worth a
 * warning even when it is intended.
 */
export function accessChecks(cfg: Record<string, unknown>, listenHost: string): Check[] {
  const out: Check[] = [];
  const fix = 'keep --allow local (the default), or reach the Pi over a VPN (WireGuard) or an SSH tunnel instead of opening the port';
  for (const key of ['allow', 'tx-allow'] as const) {
    const raw = cfg[key];
    if (raw === undefined || raw === null || raw === '') continue;
    const text = Array.isArray(raw) ? raw.join(',') : String(raw);
    let entries: string[];
    try {
      const list = OPTIONS.allow.parse(text);
      entries = nonLocalEntries(list);
    } catch (err) {
      out.push({
        id: `access-${key}`,
        status: 'fail',
        title: `${key} in the config file`,
        detail: (err as Error).message,
        fix: 'use local, loopback, any or CIDR ranges like 192.168.1.0/24',
      });
      continue;
    }
    if (entries.length === 0) continue;
    const what = key === 'allow' ? 'connect to the bus ports' : 'send frames to the bus';
    out.push({
      id: `access-${key}`,
      status: 'warn',
      title: entries.includes('any') ? `--${key} any: every address may ${what}` : `--${key} admits public addresses (${entries.join(', ')}): they may ${what}`,
      detail: 'the CAN-over-TCP protocols have no password: whoever connects can switch lights, open blinds and disarm the alarm',
      fix,
    });
  }
  const host = listenHost.replace(/^\[|\]$/g, '');
  if (host !== '' && host !== '0.0.0.0' && host !== '::' && /^[\d.:a-fA-F]+$/.test(host) && isPublicAddress(host)) {
    out.push({
      id: 'access-listen',
      status: 'warn',
      title: `listening on a public address (${host})`,
      detail: 'clients outside --allow are refused, but the port is visible to the Internet',
      fix,
    });
  }
  return out;
}

export function renderChecks(checks: Check[], color: boolean): string {
  const c = (code: number, t: string) => (color ? `\u001b[${code}m${t}\u001b[0m` : t);
  const mark = { ok: c(32, '✓'), fail: c(31, '✗'), warn: c(33, '!'), skip: c(2, '-') } as const;
  const out: string[] = [];
  for (const k of checks) {
    out.push(`${mark[k.status]} ${k.title}${k.detail ? `: ${k.detail}` : ''}`);
    if (k.status !== 'ok' && k.fix) out.push(`    fix: ${k.fix}`);
  }
  const fails = checks.filter((k) => k.status === 'fail').length;
  const warns = checks.filter((k) => k.status === 'warn').length;
  const skipped = checks.filter((k) => k.status === 'skip').length;
  const notChecked = skipped ? `; ${skipped} not checked offline` : '';
  out.push(
    '',
    fails
      ? c(31, `${fails} problem${fails === 1 ? '' : 's'}${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}${notChecked}`)
      : c(32, `all checks passed${warns ? ` (${warns} warning${warns === 1 ? '' : 's'})` : ''}${notChecked}`),
  );
  return `${out.join('\n')}\n`;
}
