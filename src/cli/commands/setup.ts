// `ampio-bridge setup`: a shim. All system-changing code lives in provisioning/ (and
// inquirer with it), imported only when setup runs, so `serve` never loads any of it.

import type { CliContext } from '../context.js';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { runSetup } = await import('../../../provisioning/index.js');
  return runSetup(args, ctx);
}
