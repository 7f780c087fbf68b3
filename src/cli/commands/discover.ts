// `ampio-bridge discover [--timeout 3s] [--json]`: browse the local network for bridges
// (`_can-server._tcp`, which go-ampio-server also advertises) and list them.
// Exit codes: 0 at least one found, 1 none answered (or mDNS failed), 2 bad flags.
import { parseArgs } from 'node:util';
import { formatDuration } from '../../config/parsers.js';
import type { DiscoveredBridge } from '../../system/mdns.js';
import { type CliContext, EXIT } from '../context.js';
import { parseDurationFlag, reportUnknownFlags } from '../flags.js';

const OPTIONS = {
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_TIMEOUT_MS = 3000;
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 60_000;

export const DISCOVER_HELP = `Usage: ampio-bridge discover [--timeout 3s] [--json]

Browses the local network over mDNS for bridges (service type _can-server._tcp, as
advertised by ampio-bridge serve --mdns-enable and by go-ampio-server) and lists them.

Flags:
  --timeout <duration>  how long to listen, e.g. 3s or 500ms; a bare number is seconds (default 3s, at most 60s)
  --json                print a JSON array of {name, host, port, addresses, bus, version, backend, txt}
  -h, --help            show this help

Exit codes: 0 found at least one bridge, 1 none answered, 2 bad flags.
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('discover', tokens, OPTIONS, ctx)) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write(DISCOVER_HELP);
    return EXIT.ok;
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (typeof values.timeout === 'string') {
    const parsed = parseDurationFlag('discover', 'timeout', values.timeout, { min: MIN_TIMEOUT_MS, max: MAX_TIMEOUT_MS, example: '3s' }, ctx);
    if (parsed === null) return EXIT.usage;
    timeoutMs = parsed;
  }

  const { browseBridges } = await import('../../system/mdns.js');
  let bridges: DiscoveredBridge[];
  try {
    bridges = await browseBridges({ timeoutMs });
  } catch (err) {
    ctx.stderr.write(
      `ampio-bridge discover: mDNS browsing failed: ${(err as Error).message}. Check that UDP port 5353 is not blocked by a firewall on this machine\n`,
    );
    return EXIT.failure;
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(bridges, null, 2)}\n`);
  } else if (bridges.length > 0) {
    ctx.stdout.write(formatBridges(bridges));
  }
  if (bridges.length === 0) {
    ctx.stderr.write(
      `ampio-bridge discover: no bridge answered within ${formatDuration(timeoutMs)}. ` +
        'Check that the bridge runs with --mdns-enable and is on this network segment (mDNS does not cross routers), or try a longer --timeout\n',
    );
    return EXIT.failure;
  }
  return EXIT.ok;
}

export function formatBridges(bridges: DiscoveredBridge[]): string {
  const header = ['NAME', 'HOST', 'PORT', 'ADDRESSES', 'BUS', 'VERSION'];
  const rows = bridges.map((b) => [b.name, b.host, String(b.port), b.addresses.join(',') || '-', b.bus ?? '-', b.version ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
