// setup and the socketcand beacon (issue 28 §3): it broadcasts to the whole LAN, so setup asks
// (default off) instead of writing `"socketcand-beacon": true` behind the user's back; it is
// asked only when socketcand is served; a re-run offers what is installed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { PATHS, type Answers } from '../../provisioning/types.js';
import { askAnswers, type Asker } from '../../provisioning/wizard.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const BEACON = 'Announce socketcand on the local network by broadcast';

/** Every question at its default, except the beacon (answered `beacon`) and socketcand's own (`socketcand`). */
function asker(asked: { message: string; def: boolean }[], beacon: boolean | null, socketcand = true): Asker {
  return {
    select: async (_m, _c, def) => def,
    input: async (_m, def) => def,
    async confirm(message: string, def: boolean) {
      if (message.startsWith('Also serve socketcand')) return socketcand;
      if (!message.startsWith(BEACON)) return def;
      asked.push({ message, def });
      return beacon ?? def;
    },
  };
}

async function install(root: string, a: Answers): Promise<void> {
  const sys = new FakeSystem(root);
  const run = await planFor(root, sys, a);
  expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: () => new Date(0), version: '0.1.0' })).ok).toBe(true);
}

describe('setup: the socketcand beacon', () => {
  it('is asked, default off, saying it goes to the whole LAN; the answer is what is written; a re-run offers it again', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const run = await planFor(t.root, new FakeSystem(t.root));
    const asked: { message: string; def: boolean }[] = [];
    const defaults = await askAnswers(asker(asked, null), run.facts, run.catalog, run.answers, {});
    expect(asked).toEqual([{ message: expect.stringContaining('to every machine on the LAN'), def: false }]);
    expect(defaults.discovery.socketcandBeacon).toBe(false);

    const yes = await askAnswers(asker([], true), run.facts, run.catalog, run.answers, {});
    await install(t.root, yes);
    expect(JSON.parse(readFileSync(path.join(t.root, PATHS.configFile), 'utf8'))['socketcand-beacon']).toBe(true);
    const rerun = await planFor(t.root, new FakeSystem(t.root));
    const again: { message: string; def: boolean }[] = [];
    await askAnswers(asker(again, null), rerun.facts, rerun.catalog, rerun.answers, {});
    expect(again.map((q) => q.def)).toEqual([true]);
  });

  it('is not asked without socketcand, and is then off', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const run = await planFor(t.root, new FakeSystem(t.root));
    const asked: { message: string; def: boolean }[] = [];
    const a = await askAnswers(asker(asked, true, false), run.facts, run.catalog, { ...run.answers, discovery: { socketcandBeacon: true } }, {});
    expect(asked).toEqual([]);
    expect(a.listeners.socketcandListen).toBe('');
    expect(a.discovery.socketcandBeacon).toBe(false);
  });
});
