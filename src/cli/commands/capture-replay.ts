import type { CliContext } from '../context.js';
export async function runReplay(_args: string[], ctx: CliContext): Promise<number> {
  ctx.stderr.write('ampio-bridge capture replay: not yet\n');
  return 2;
}
