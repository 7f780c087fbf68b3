// `ampio-bridge setup`: reads its flags here (setup-flags.ts, the shared flag layer), then
// hands them to provisioning/. All system-changing code lives there (and inquirer with it),
// imported only when setup runs, so `serve` never loads any of it.

import type { SetupDeps } from '../../../provisioning/index.js';
import type { CliContext } from '../context.js';
import { parseSetupFlags } from './setup-flags.js';

/** `deps` replaces the system (file system, command runner, clock) in tests. */
export async function run(args: string[], ctx: CliContext, deps?: SetupDeps): Promise<number> {
  const flags = parseSetupFlags(args, ctx);
  if ('exit' in flags) return flags.exit;
  const { runSetup } = await import('../../../provisioning/index.js');
  return runSetup(flags, ctx, { testMqtt: async (url) => (await import('../../mqtt/probe.js')).probeBroker({ url }), ...deps });
}
