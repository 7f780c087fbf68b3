// probe → defaults → plan over a fixture root, the way `setup` does it, with fixed version
// and paths so golden files do not change with package.json.

import { loadCatalog, type Catalog } from '../../provisioning/catalog.js';
import { defaultAnswers } from '../../provisioning/defaults.js';
import { NodeFs, type Fs } from '../../provisioning/io/fs.js';
import type { Runner } from '../../provisioning/io/runner.js';
import { loadTemplates } from '../../provisioning/package-files.js';
import { planInstall } from '../../provisioning/plan.js';
import { probe } from '../../provisioning/probe.js';
import type { Answers, Facts, Plan, SetupFlags } from '../../provisioning/types.js';
import { parseSetupFlags } from '../../src/cli/commands/setup-flags.js';
import { captureCli } from './cli-context.js';

export const TEST_VERSION = '0.1.0';
export const NODE = '/usr/bin/node';
export const STABLE_MAIN = '/usr/local/lib/node_modules/ampio-bridge/dist/src/cli/main.js';
export const NPX_MAIN = '/root/.npm/_npx/6a1b2c3d/node_modules/ampio-bridge/dist/src/cli/main.js';

let catalog: Catalog | null = null;

export interface PlanRun {
  facts: Facts;
  answers: Answers;
  plan: Plan;
  fs: Fs;
  catalog: Catalog;
}

export async function planFor(
  root: string,
  runner: Runner,
  over: Partial<Answers> = {},
  opts: { imageRoot?: boolean; runningMain?: string; version?: string; fs?: Fs; env?: Record<string, string> } = {},
): Promise<PlanRun> {
  catalog ??= await loadCatalog();
  const fs = opts.fs ?? new NodeFs(root);
  const facts = await probe({
    fs,
    runner,
    root: opts.imageRoot ? root : null,
    nodePath: NODE,
    runningMain: opts.runningMain ?? STABLE_MAIN,
    env: opts.env ?? {},
  });
  const answers: Answers = { ...defaultAnswers(facts, catalog), ...over };
  const plan = planInstall({
    facts,
    answers,
    env: { version: opts.version ?? TEST_VERSION, nodePath: NODE, live: !opts.imageRoot },
    catalog,
    templates: loadTemplates(),
  });
  return { facts, answers, plan, fs, catalog };
}

/** Setup's flags as the CLI reads them; a usage error fails the test with setup's message. */
export function setupFlagsOf(args: string[]): SetupFlags {
  const cli = captureCli();
  const flags = parseSetupFlags(args, cli.ctx);
  if ('exit' in flags) throw new Error(`setup refused ${JSON.stringify(args)}: ${cli.stderr()}`);
  return flags;
}
