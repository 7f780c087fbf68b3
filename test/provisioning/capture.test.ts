// setup and the frame capture store: on by default for a fresh install (in the unit's
// StateDirectory=), "no" / --capture "" writes no key and removes an earlier one, a re-run
// keeps what is installed, and the closing summary says how to ask the store.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { serializeConfig } from '../../provisioning/io/fs.js';
import type { SetupDeps } from '../../provisioning/index.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { PATHS, type Answers } from '../../provisioning/types.js';
import { askAnswers, type Asker } from '../../provisioning/wizard.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { NODE, planFor, STABLE_MAIN, setupFlagsOf } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const STORE = '/var/lib/ampio-bridge/capture.db';
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function freshRoot(): string {
  const t = tempRoot('bookworm-fresh');
  cleanups.push(t.cleanup);
  return t.root;
}

async function install(root: string, over: Partial<Answers>): Promise<void> {
  const sys = new FakeSystem(root);
  const run = await planFor(root, sys, over);
  expect(run.plan.notices.filter((n) => n.level === 'error')).toEqual([]);
  expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: () => new Date(0), version: '0.1.0' })).ok).toBe(true);
}

const configOf = (root: string) => JSON.parse(readFileSync(path.join(root, PATHS.configFile), 'utf8')) as Record<string, unknown>;

/** Answers every question with its default, except the capture question (answered `captureOn`). */
function scriptedAsker(asked: { message: string; def: boolean }[], captureOn: boolean | null): Asker {
  return {
    select: async (_m, _c, def) => def,
    input: async (_m, def) => def,
    async confirm(message: string, def: boolean) {
      if (!message.startsWith('Keep a history of every bus frame')) return def;
      asked.push({ message, def });
      return captureOn ?? def;
    },
  };
}

describe('setup: frame capture', () => {
  it('a fresh install writes "capture" in the StateDirectory, and a re-run changes nothing', async () => {
    const root = freshRoot();
    await install(root, {});
    expect(configOf(root).capture).toBe(STORE);
    const again = await planFor(root, new FakeSystem(root));
    expect(again.answers.capture).toBe(STORE);
    expect(again.plan.steps.map((s) => s.id)).not.toContain('config');
  });

  it('--capture "" writes no key; a re-run keeps it off instead of switching it on', async () => {
    const root = freshRoot();
    const flags = setupFlagsOf(['--capture', '']);
    expect(flags.answers.capture).toBe('');
    await install(root, flags.answers);
    expect(configOf(root)).not.toHaveProperty('capture');
    const again = await planFor(root, new FakeSystem(root));
    expect(again.answers.capture).toBe('');
    expect(again.plan.steps.map((s) => s.id)).not.toContain('config');
  });

  it('a re-run keeps a path the config already has; answering off removes it', async () => {
    const root = freshRoot();
    await install(root, {});
    const file = path.join(root, PATHS.configFile);
    writeFileSync(file, serializeConfig({ ...configOf(root), capture: '/var/lib/ampio-bridge/night.db' }));
    const sys = new FakeSystem(root);
    const same = await planFor(root, sys);
    expect(same.answers.capture).toBe('/var/lib/ampio-bridge/night.db');
    expect(same.plan.steps.map((s) => s.id)).not.toContain('config');
    const off = await planFor(root, sys, { capture: '' });
    const config = off.plan.steps.find((s) => s.id === 'config');
    expect(config?.kind === 'write' && JSON.parse(config.after)).not.toHaveProperty('capture');
  });

  it('the wizard asks, default yes; "no" writes nothing; a re-run offers what is installed', async () => {
    const root = freshRoot();
    const run = await planFor(root, new FakeSystem(root));
    const asked: { message: string; def: boolean }[] = [];
    expect((await askAnswers(scriptedAsker(asked, null), run.facts, run.catalog, run.answers, {})).capture).toBe(STORE);
    expect(asked).toEqual([{ message: expect.stringContaining('ampio-bridge capture query --since 1h'), def: true }]);
    const no = await askAnswers(scriptedAsker(asked, false), run.facts, run.catalog, run.answers, {});
    expect(no.capture).toBe('');
    await install(root, no);
    expect(configOf(root)).not.toHaveProperty('capture');

    const rerun = await planFor(root, new FakeSystem(root));
    const again: { message: string; def: boolean }[] = [];
    expect((await askAnswers(scriptedAsker(again, null), rerun.facts, rerun.catalog, rerun.answers, {})).capture).toBe('');
    expect(again.map((q) => q.def)).toEqual([false]);
    // --capture given: the question is not asked.
    const given: { message: string; def: boolean }[] = [];
    await askAnswers(scriptedAsker(given, null), rerun.facts, rerun.catalog, rerun.answers, { capture: STORE });
    expect(given).toEqual([]);
  });

  it('a bad path is an error naming the flag; a path the sandboxed service cannot write is a warning', async () => {
    const root = freshRoot();
    const bad = await planFor(root, new FakeSystem(root), { capture: 'capture.db' });
    expect(bad.plan.notices.filter((n) => n.level === 'error').map((n) => n.text)).toEqual([expect.stringMatching(/^--capture: .*not a file path/)]);
    expect(bad.plan.steps).toEqual([]);
    const home = await planFor(root, new FakeSystem(root), { capture: '/home/pi/capture.db' });
    expect(home.plan.notices.find((n) => n.level === 'warn' && n.text.startsWith('--capture /home/pi/capture.db'))?.fix).toContain(STORE);
  });

  it('--yes: the closing summary says how to ask the store, and nothing when off', async () => {
    const deps: SetupDeps = { nodePath: NODE, runningMain: STABLE_MAIN, version: '0.1.0', now: () => new Date('2025-03-01T10:00:00Z') };
    for (const [args, line] of [
      [[], true],
      [['--capture', ''], false],
    ] as const) {
      const root = freshRoot();
      const cli = captureCli({ isRoot: false });
      expect(await setupCommand(['--yes', '--root', root, ...args], cli.ctx, { ...deps, runner: new FakeSystem(root) })).toBe(0);
      const said = cli.stdout().includes(`Every bus frame is kept in ${STORE}: ask it with \`ampio-bridge capture query --since 1h\`.`);
      expect(said).toBe(line);
      expect(configOf(root).capture).toBe(line ? STORE : undefined);
    }
  });
});
