// `ampio-bridge version [--json]`: what is running, for bug reports and fleet checks.
import { parseArgs } from 'node:util';
import { formatBuildInfo, readBuildInfo } from '../../system/build-info.js';
import { type CliContext, EXIT } from '../context.js';
import { reportUnknownFlags } from '../flags.js';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const options = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values, tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('version', tokens, options, ctx)) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write('Usage: ampio-bridge version [--json]\n\nPrints the version, git commit and build date (--json: one JSON object).\n');
    return EXIT.ok;
  }
  const info = readBuildInfo();
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ ...info, node: process.version, platform: `${process.platform}/${process.arch}` })}\n`);
  } else {
    ctx.stdout.write(`${formatBuildInfo(info)}\nnode ${process.version} ${process.platform}/${process.arch}\n`);
  }
  return EXIT.ok;
}
