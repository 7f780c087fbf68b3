// `ampio-bridge doctor [--json]`: read-only checks of the whole chain (overlay, SPI, the
// controller's init in dmesg, link, bitrate, restart-ms, txqueuelen, bus state, service,
// port, control socket, /ready, mDNS), each with its fix. Exit 1 on any ✗.
// The checks live in provisioning/doctor.ts behind injected ports; this shim passes the
// real ones: only read-only commands may run (ip, systemctl is-active, dmesg/journalctl).

import net from 'node:net';
import { request } from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { configuredListeners, OPTIONS, PROTOCOL_PLUGINS } from '../../config/options.js';
import { formatAddressList } from '../../guard/address-list.js';
import { ControlClient, connectOptionsFor, resolveControlSocket } from '../../control/control-client.js';
import { type CliContext, EXIT } from '../context.js';
import { askDaemonCapture, type LiveCaptureCheck, liveCaptureChecks } from '../daemon-capture.js';
import { reportUnknownFlags } from '../flags.js';

const FLAGS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  root: { type: 'string' },
  'control-socket': { type: 'string' },
  'no-mdns': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DOCTOR_HELP = `Usage: ampio-bridge doctor [--json] [--config PATH] [--root DIR] [--control-socket PATH] [--no-mdns]

Read-only checks of what setup arranged, each with ✓ ok, ✗ problem (and its fix) or ! warning:
config file, CAN HAT overlay in config.txt, SPI, controller initialisation in the kernel log
(with what its error codes mean), each interface (present, up, bitrate, restart-ms,
txqueuelen, bus state), the receive-buffer ceiling (net.core.rmem_max against
--can-rcvbuf), the service, its TCP ports, control socket, /ready, mDNS, frame capture
(as the running daemon reports it; from the config file when no daemon answers), and
whether the MQTT broker (--mqtt-url) accepts the bridge.

Flags:
  --json          the checks as JSON
  --config PATH   daemon config file (default /etc/ampio-bridge/config.json), judged by
                  serve's own loader with the service's /etc/default/ampio-bridge
  --root DIR      check an SD-card image mounted at DIR offline (config.txt, network files,
                  unit, config); the live parts are listed as "not checked offline"
  --control-socket PATH  the control socket to try (default: as \`status\` finds it)
  --no-mdns       skip the mDNS browse (it sends a multicast query on the LAN)
  -h, --help      show this help

Exit codes: 0 no ✗, 1 at least one ✗, 2 bad flags. Run with sudo to read the kernel log.
`;

function probeTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 2000);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function probeReady(host: string, port: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/ready', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function probeControl(socketPath: string, opts: ReturnType<typeof connectOptionsFor>): Promise<{ ok: boolean; detail: string }> {
  try {
    const c = await ControlClient.connect(socketPath, { ...opts, timeoutMs: 2000 });
    const detail = `ampio-bridge ${c.hello.daemon}, pid ${c.hello.pid}, protocol ${c.hello.version}`;
    c.close();
    return { ok: true, detail };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

/** The running bridge's Ampio modules: sagging supplies, offline modules, the house file. */
async function probeAmpio(socketPath: string, opts: ReturnType<typeof connectOptionsFor>) {
  const { ampioChecks } = await import('../../ampio/doctor.js');
  try {
    const c = await ControlClient.connect(socketPath, { ...opts, timeoutMs: 2000 });
    try {
      return ampioChecks((await c.snapshot()).ampio, Date.now());
    } finally {
      c.close();
    }
  } catch {
    return [];
  }
}

// A type-only reference: the provisioning code itself loads lazily (see run).
type ConfigVerdict = import('../../../provisioning/doctor.js').ConfigVerdict;

/**
 * The config as `serve --config PATH` sees it under the unit (EnvironmentFile values, no
 * login-shell variables): the very loader, so doctor and serve can never disagree.
 */
export function validateWithServeLoader(configPath: string, unitEnv: Record<string, string>, ctx: CliContext): ConfigVerdict {
  const loaded = loadConfig({ argv: ['--config', configPath], env: unitEnv, isRoot: true, cwd: ctx.cwd });
  if (!loaded.ok) return { ok: false, errors: loaded.errors.map((e) => e.message), warnings: loaded.warnings };
  const c = loaded.config;
  return {
    ok: true,
    backend: c.backend,
    canIf: [...c.canIf],
    serial: c.serial,
    bitrate: c.bitrate,
    listen: { host: c.listen.host, port: c.listen.port },
    // The one HTTP server (/ready): --http-listen, or its older name --metrics-addr.
    metricsAddr: (c.httpListen ?? c.metricsAddr) ? { host: (c.httpListen ?? c.metricsAddr)!.host, port: (c.httpListen ?? c.metricsAddr)!.port } : null,
    // UDP ports take no connections: doctor probes only the TCP ones.
    listeners: configuredListeners(OPTIONS, c as unknown as Record<string, unknown>, c.backend === 'serial' ? [c.serial] : c.canIf).flatMap((l) =>
      l.tcp && l.transport !== 'udp' ? [{ option: l.option, label: l.label, host: l.tcp.host, port: l.tcp.port }] : [],
    ),
    // The servers a protocol dials out to, one per bus (port + i).
    dialTargets: PROTOCOL_PLUGINS.flatMap((p) => {
      const t = p.connect ? ((c as unknown as Record<string, { host: string; port: number } | null>)[p.connect] ?? null) : null;
      const buses = c.backend === 'serial' ? [c.serial] : c.canIf;
      return t ? buses.map((bus, i) => ({ protocol: p.name, option: p.connect as string, bus, host: t.host, port: t.port + i })) : [];
    }),
    mdnsEnable: c.mdnsEnable,
    canRcvbuf: c.canRcvbuf,
    allow: formatAddressList(c.allow),
    txAllow: c.txAllow ? formatAddressList(c.txAllow) : '',
    warnings: loaded.warnings,
  };
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('doctor', tokens, FLAGS, ctx)) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write(DOCTOR_HELP);
    return EXIT.ok;
  }
  const [{ runDoctorChecks, renderChecks }, { NodeFs }, { ExecaRunner, allowlistRunner, isReadOnlyCommand }, { loadCatalog }] = await Promise.all([
    import('../../../provisioning/doctor.js'),
    import('../../../provisioning/io/fs.js'),
    import('../../../provisioning/io/runner.js'),
    import('../../../provisioning/catalog.js'),
  ]);
  const root = typeof values.root === 'string' && values.root !== '' ? path.resolve(ctx.cwd, values.root) : null;
  const socketFlag = typeof values['control-socket'] === 'string' ? values['control-socket'] : null;
  const socket = resolveControlSocket({ flag: socketFlag, env: ctx.env, role: 'client', systemRuntimeDir: ctx.systemRuntimeDir });
  const checks = await runDoctorChecks({
    fs: new NodeFs(root ?? '/'),
    runner: allowlistRunner(new ExecaRunner(), isReadOnlyCommand),
    catalog: await loadCatalog(),
    configPath: typeof values.config === 'string' ? values.config : undefined,
    offline: root !== null,
    controlSocket: socket.path,
    validateConfig: (configPath, env) => validateWithServeLoader(root ? path.join(root, configPath) : configPath, env, ctx),
    probeCapture: captureProbe(ctx, socketFlag),
    probeMqtt: async (configPath) => (await import('../../mqtt/doctor.js')).mqttChecks(readConfigKeys(configPath), ctx.env),
    probeAmpio: () => probeAmpio(socket.path, connectOptionsFor(socket)),
    probeTcp,
    probeControl: (p) => probeControl(p, connectOptionsFor(socket)),
    probeReady,
    browseMdns: async () => {
      if (values['no-mdns'] || root) return null;
      try {
        const { browseBridges } = await import('../../system/mdns.js');
        return (await browseBridges({ timeoutMs: 3000 })).map((b) => ({ name: b.name, port: b.port }));
      } catch {
        return null;
      }
    },
  });
  if (values.json) ctx.stdout.write(`${JSON.stringify({ ok: !checks.some((c) => c.status === 'fail'), checks }, null, 2)}\n`);
  else ctx.stdout.write(renderChecks(checks, ctx.isTTY && !ctx.env.NO_COLOR));
  return checks.some((c) => c.status === 'fail') ? EXIT.failure : EXIT.ok;
}

/** doctor's capture checks: the running daemon first (what it does now), the config file only when none answers. */
export function captureProbe(ctx: CliContext, socketFlag: string | null): (configPath: string) => Promise<LiveCaptureCheck[]> {
  return async (configPath) => {
    const cfg = readConfigKeys(configPath);
    const live = await askDaemonCapture({ flag: socketFlag, env: ctx.env, systemRuntimeDir: ctx.systemRuntimeDir });
    if (live.reached) return liveCaptureChecks(live, cfg);
    return (await import('../../capture/doctor.js')).captureChecks(cfg, ctx.env);
  };
}

/** The config file's keys (capture, pg-url, …) for the capture checks; {} when absent or unreadable (the config check reports that). */
function readConfigKeys(configPath: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
