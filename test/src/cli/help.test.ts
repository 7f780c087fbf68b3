import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  README_TABLE_END,
  README_TABLE_START,
  renderMainHelp,
  renderOptionsMarkdownTable,
  renderServeHelp,
  replaceReadmeTable,
} from '../../../src/cli/help.js';
import { COMMANDS } from '../../../src/cli/command-table.js';
import { defaultText, envNameFor, OPTION_NAMES, OPTIONS } from '../../../src/config/options.js';
import { PROTOCOLS } from '../../../src/protocols/registry.js';

const README = new URL('../../../README.md', import.meta.url);

describe('README flag table', () => {
  it('matches the options table (UPDATE_README=1 rewrites it)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(readme).toContain(README_TABLE_START);
    expect(readme).toContain(README_TABLE_END);
    const expected = replaceReadmeTable(readme);
    if (process.env.UPDATE_README === '1' && expected !== readme) fs.writeFileSync(README, expected);
    else expect(readme, 'README flag table is out of date: run `UPDATE_README=1 npx vitest run test/src/cli/help.test.ts`').toBe(expected);
  });

  it('has one row per option with flag, env var and default, plus --config', () => {
    const table = renderOptionsMarkdownTable();
    const rows = table.trim().split('\n').slice(2);
    expect(rows).toHaveLength(OPTION_NAMES.length + 1);
    for (const name of OPTION_NAMES) {
      const flag = OPTIONS[name].flag;
      const row = rows.find((r) => r.startsWith(`| \`--${flag}\` |`));
      expect(row, flag).toBeDefined();
      expect(row).toContain(`\`${envNameFor(flag)}\``);
      expect(row).toContain(`\`${defaultText(name).replace(/\|/g, '\\|')}\``);
      // Every row has exactly four cells: no unescaped pipe from a help text.
      expect(row!.replace(/\\\|/g, '').split('|')).toHaveLength(6);
    }
  });

  it('replaceReadmeTable refuses a README without markers', () => {
    expect(() => replaceReadmeTable('# nothing here')).toThrow(/options:start/);
  });
});

describe('serve --help', () => {
  const help = renderServeHelp({ width: 80 });
  it('lists every flag with its env var and default, grouped', () => {
    for (const name of OPTION_NAMES) {
      const spec = OPTIONS[name];
      expect(help).toContain(`--${spec.flag}`);
      expect(help).toContain(`env ${envNameFor(spec.flag)}, default`);
    }
    expect(help).toContain('--config <path>');
    expect(help).toContain('-h, --help');
    expect(help.indexOf('CAN backend:')).toBeLessThan(help.indexOf('Network:'));
    expect(help).toContain('--backend socketcan|serial|virtual');
    expect(help).toContain('--mdns-enable[=false]');
  });

  it('wraps to the terminal width', () => {
    for (const line of help.split('\n')) {
      // A single unbreakable word (a long default path) may exceed it; nothing else does.
      if (line.length > 80)
        expect(
          line
            .trim()
            .split(' ')
            .some((w) => w.length > 40),
        ).toBe(true);
    }
    expect(
      Math.max(
        ...renderServeHelp({ width: 120 })
          .split('\n')
          .map((l) => l.length),
      ),
    ).toBeGreaterThan(80);
  });
});

describe('main help', () => {
  it('lists each command with one line', () => {
    const help = renderMainHelp('1.2.3', { width: 200 });
    expect(help).toContain('ampio-bridge 1.2.3');
    for (const c of COMMANDS) expect(help).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
  });
});

describe('what the bridge is, said the same in every place a newcomer looks (issue 28)', () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { description: string };
  const places = {
    'ampio-bridge --help': renderMainHelp('1.2.3', { width: 100 }),
    'ampio-bridge serve --help': renderServeHelp({ width: 100 }),
    'package.json description': pkg.description,
  };

  it('names every wire protocol of the registry, capture and the house; no longer "a cannelloni TCP bridge"', () => {
    for (const [where, text] of Object.entries(places)) {
      const flat = text.replace(/\s+/g, ' ');
      for (const name of Object.keys(PROTOCOLS)) expect(flat.toLowerCase(), `${where} names ${name}`).toContain(name);
      expect(flat, `${where}: capture`).toMatch(/records every frame|record of every frame/);
      expect(flat, `${where}: the house`).toMatch(/house/);
      expect(flat, where).not.toMatch(/cannelloni TCP bridge/i);
    }
  });

  it('serve --help says how each protocol is turned on, and where the frame record goes', () => {
    const help = renderServeHelp({ width: 100 }).replace(/\s+/g, ' ');
    expect(help).toContain('--listen (one port per bus)');
    expect(help).toContain('--<protocol>-listen');
    for (const flag of ['--capture', '--pg-url']) expect(help).toContain(flag);
  });
});
