// `ampio-bridge version [--json]`: what is running, for bug reports and fleet checks.
import { formatBuildInfo, readBuildInfo } from '../../system/build-info.js';
import { type CliContext, EXIT } from '../context.js';
import { type CommandSpec, parseCommandFlags } from '../flags.js';

export const VERSION: CommandSpec = {
  name: 'version',
  usage: 'version [--json]',
  description: 'Prints the version, git commit and build date (also: ampio-bridge -v / --version).',
  flags: { json: { type: 'boolean', help: 'one JSON object, with the Node version and platform' } },
};

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandFlags(VERSION, args, ctx);
  if ('exit' in parsed) return parsed.exit;
  const info = readBuildInfo();
  if (parsed.values.json) {
    ctx.stdout.write(`${JSON.stringify({ ...info, node: process.version, platform: `${process.platform}/${process.arch}` })}\n`);
  } else {
    ctx.stdout.write(`${formatBuildInfo(info)}\nnode ${process.version} ${process.platform}/${process.arch}\n`);
  }
  return EXIT.ok;
}
