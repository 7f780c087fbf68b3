// `ampio-bridge doctor [--json]`: read-only checks of the whole chain (overlay, SPI, the
// controller's init in dmesg, link, bitrate, restart-ms, txqueuelen, bus state, service,
// port, control socket, /ready, mDNS), each with its fix. Exit 1 on any ✗.
// The checks live in provisioning/doctor.ts behind injected ports; this shim passes the
// real ones: only read-only commands may run (ip, systemctl is-active, dmesg/journalctl).

import net from 'node:net';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { ControlClient } from '../../control/control-client.js';
import { type CliContext, EXIT } from '../context.js';
import { reportUnknownFlags } from '../flags.js';

const FLAGS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  'no-mdns': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DOCTOR_HELP = `Usage: ampio-bridge doctor [--json] [--config PATH] [--no-mdns]

Read-only checks of what setup arranged, each with ✓ ok, ✗ problem (and its fix) or ! warning:
config file, CAN HAT overlay in config.txt, SPI, controller initialisation in the kernel log
(with what its error codes mean), each interface (present, up, bitrate, restart-ms,
txqueuelen, bus state), the service, its TCP ports, control socket, /ready and mDNS.

Flags:
  --json          the checks as JSON
  --config PATH   daemon config file (default /etc/ampio-bridge/config.json)
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

async function probeControl(path: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const c = await ControlClient.connect(path, { timeoutMs: 2000 });
    const detail = `ampio-bridge ${c.hello.daemon}, pid ${c.hello.pid}, protocol ${c.hello.version}`;
    c.close();
    return { ok: true, detail };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
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
  const checks = await runDoctorChecks({
    fs: new NodeFs('/'),
    runner: allowlistRunner(new ExecaRunner(), isReadOnlyCommand),
    catalog: await loadCatalog(),
    configPath: typeof values.config === 'string' ? values.config : undefined,
    probeCapture: async (cfg) => (await import('../../capture/doctor.js')).captureChecks(cfg, ctx.env),
    probeTcp,
    probeControl,
    probeReady,
    browseMdns: async () => {
      if (values['no-mdns']) return null;
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
