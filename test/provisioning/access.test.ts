// Who may connect, as setup writes it: the config file gets --allow / --tx-rate only when
// they differ from the daemon's defaults, "anyone" is warned about, and the wizard asks.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { askAnswers, BUS_PORT_WARNING, type Asker } from '../../provisioning/wizard.js';
import { PATHS, type Plan } from '../../provisioning/types.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor, setupFlagsOf } from '../support/setup-harness.js';
import { SYSTEMS_DIR, tempRoot } from '../support/temp-root.js';

const fresh = path.join(SYSTEMS_DIR, 'bookworm-fresh');
const configOf = (p: Plan): Record<string, unknown> => {
  const s = p.steps.find((x) => x.id === 'config');
  return s && s.kind === 'write' ? JSON.parse(s.after) : {};
};

describe('setup: who may connect', () => {
  it('local (the default) writes nothing; loopback and a rate are written', async () => {
    const def = await planFor(fresh, new FakeSystem(fresh));
    expect(configOf(def.plan)).not.toHaveProperty('allow');
    const run = await planFor(fresh, new FakeSystem(fresh), { allow: 'loopback', txRate: '192/48' });
    expect(configOf(run.plan)).toMatchObject({ allow: 'loopback', 'tx-rate': '192/48' });
    expect(run.plan.notices.filter((n) => n.level === 'warn' && /allow = any/.test(n.text))).toEqual([]);
  });

  it('back to the defaults over an installed "any" and a rate: the keys go (setup --allow local locks it down)', async () => {
    const t = tempRoot('bookworm-fresh');
    try {
      mkdirSync(path.dirname(path.join(t.root, PATHS.configFile)), { recursive: true });
      writeFileSync(path.join(t.root, PATHS.configFile), JSON.stringify({ backend: 'socketcan', allow: 'any', 'tx-rate': '100/10', 'log-level': 'debug' }));
      const kept = await planFor(t.root, new FakeSystem(t.root));
      expect(configOf(kept.plan)).toMatchObject({ allow: 'any', 'tx-rate': '100/10' });
      const locked = await planFor(t.root, new FakeSystem(t.root), { allow: 'local', txRate: '0' });
      const config = configOf(locked.plan);
      expect(config).not.toHaveProperty('allow');
      expect(config).not.toHaveProperty('tx-rate');
      expect(config['log-level']).toBe('debug');
    } finally {
      t.cleanup();
    }
  });

  it('anyone is warned about in the plan; a bad list is an error naming the flag', async () => {
    const any = await planFor(fresh, new FakeSystem(fresh), { allow: 'any' });
    expect(any.plan.notices.some((n) => n.level === 'warn' && /allow = any: every address that reaches port 20000 can drive the bus/.test(n.text))).toBe(true);
    const bad = await planFor(fresh, new FakeSystem(fresh), { allow: '10.0.0.0/99' });
    expect(bad.plan.notices.find((n) => n.level === 'error')?.text).toMatch(/--allow: .*0\.\.32/);
  });

  it('flags --allow and --tx-rate answer the questions', () => {
    const f = setupFlagsOf(['--allow', 'loopback', '--tx-rate', '100/10']);
    expect(f.answers).toMatchObject({ allow: 'loopback', txRate: '100/10' });
  });

  it('the wizard warns about the bus port, then asks, suggesting a rate from the bitrate', async () => {
    const run = await planFor(fresh, new FakeSystem(fresh));
    const asked: string[] = [];
    const said: string[] = [];
    const asker: Asker = {
      async select<T>(message: string, choices: { value: T }[], def: T): Promise<T> {
        asked.push(message);
        return message === 'Who may connect?' ? (choices[1].value as T) : def;
      },
      async input(message: string, def: string) {
        asked.push(message);
        return def;
      },
      async confirm(message: string, def: boolean) {
        asked.push(message);
        return message.startsWith('Limit how fast') ? true : def;
      },
    };
    const a = await askAnswers(asker, run.facts, run.catalog, run.answers, {}, (l) => said.push(l));
    expect(said).toEqual([BUS_PORT_WARNING]);
    expect(asked).toContain('Who may connect?');
    expect(asked.find((m) => m.startsWith('Limit how fast'))).toMatch(/192 frames\/s, bursts of 48: half of what 50 kbit\/s carries/);
    expect(a.allow).toBe('loopback');
    expect(a.txRate).toBe('192/48');
  });
});

describe('doctor: who may connect', () => {
  it('warns on any, on public ranges in allow or tx-allow, and on a public listen address', async () => {
    const { accessChecks } = await import('../../provisioning/doctor.js');
    expect(accessChecks({}, '')).toEqual([]);
    expect(accessChecks({ allow: 'local,100.64.0.0/10' }, '')).toHaveLength(1);
    expect(accessChecks({ allow: 'loopback,192.168.1.0/24' }, '192.168.1.5')).toEqual([]);
    const any = accessChecks({ allow: 'any' }, '');
    expect(any[0]).toMatchObject({ status: 'warn', title: '--allow any: every address may connect to the bus ports' });
    expect(any[0].detail).toMatch(/no password/);
    const pub = accessChecks({ 'tx-allow': ['10.0.0.0/8', '8.8.0.0/16'] }, '');
    expect(pub[0].title).toBe('--tx-allow admits public addresses (8.8.0.0/16): they may send frames to the bus');
    expect(accessChecks({}, '198.51.100.7')[0].title).toBe('listening on a public address (198.51.100.7)');
    expect(accessChecks({ allow: '10.0.0.0/99' }, '')[0].status).toBe('fail');
  });
});
