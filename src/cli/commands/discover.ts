// `ampio-bridge discover [--timeout 3s] [--json]`: browse the local network for bridges
// (`_can-server._tcp`, which go-ampio-server also advertises) and list them.
// Exit codes: 0 at least one found, 1 none answered (or mDNS failed), 2 bad flags.
import { formatDuration } from '../../options/parsers.js';
import type { DiscoveredBridge } from '../../system/mdns.js';
import { type CliContext, EXIT } from '../context.js';
import { type CommandSpec, parseCommandFlags, parseDurationFlag } from '../flags.js';

const DEFAULT_TIMEOUT_MS = 3000;
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 60_000;

export const DISCOVER: CommandSpec = {
  name: 'discover',
  usage: 'discover [--timeout 3s] [--json]',
  description: `Browses the local network over mDNS for bridges (service type _can-server._tcp, as
advertised by ampio-bridge serve --mdns-enable and by go-ampio-server) and lists them.`,
  flags: {
    timeout: { type: 'string', value: 'duration', help: 'how long to listen, e.g. 3s or 500ms; a bare number is seconds (default 3s, at most 60s)' },
    json: { type: 'boolean', help: 'print a JSON array of {name, host, port, addresses, bus, version, backend, txt}' },
  },
  footer: 'Exit codes: 0 found at least one bridge, 1 none answered, 2 bad flags.',
};

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandFlags(DISCOVER, args, ctx);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (typeof values.timeout === 'string') {
    const ms = parseDurationFlag('discover', 'timeout', values.timeout, { min: MIN_TIMEOUT_MS, max: MAX_TIMEOUT_MS, example: '3s' }, ctx);
    if (ms === null) return EXIT.usage;
    timeoutMs = ms;
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
