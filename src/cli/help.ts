// Help text and the README flag table, both rendered from the options table so neither can
// drift from what `serve` actually accepts.

import { CONFIG_ENV, SYSTEM_CONFIG_DIR } from '../config/paths.js';
import { defaultText, envNameFor, OPTION_NAMES, OPTIONS, type OptionName, type OptionSpec } from '../config/options.js';
import { PROTOCOLS } from '../protocols/registry.js';
import { COMMANDS } from './command-table.js';

type Group = OptionSpec<unknown>['group'];

const GROUP_TITLES: Record<Group, string> = {
  backend: 'CAN backend',
  network: 'Network',
  hub: 'Fan-out hub',
  observability: 'Observability',
  logging: 'Logging',
};

const GROUP_ORDER: readonly Group[] = ['backend', 'network', 'hub', 'observability', 'logging'];

/** The placeholder after a flag in help: ` <n>`, ` <host:port>`, ` a|b`, `[=false]`. */
export function optionPlaceholder(spec: Pick<OptionSpec<unknown>, 'kind' | 'choices'>): string {
  switch (spec.kind) {
    case 'bool':
      return '[=false]';
    case 'enum':
      return ` ${(spec.choices ?? []).join('|') || '<value>'}`;
    case 'int':
      return ' <n>';
    case 'duration':
      return ' <duration>';
    case 'list':
      return ' <name>[,<name>]';
    case 'address':
      return ' <host:port>';
    case 'path':
      return ' <path>';
    case 'string':
      return ' <text>';
  }
}

/** `--hub-buffer <n>`: the flag with a placeholder for its value. */
export function flagSynopsis(name: OptionName): string {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  return `--${spec.flag}${optionPlaceholder(spec)}`;
}

/** Greedy word wrap; words longer than the width stay whole. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

export interface HelpOptions {
  /** Terminal width; help wraps to it (bounded to 60..120 so it stays readable). */
  width?: number;
}

function clampWidth(width: number | undefined): number {
  return Math.max(60, Math.min(width ?? 80, 120));
}

/** "cannelloni, tcpcan, socketcand and gvret": every protocol of the registry, so help names a new one by itself. */
function protocolList(): string {
  const names = Object.keys(PROTOCOLS);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? '');
}

export function renderServeHelp(options: HelpOptions = {}): string {
  const width = clampWidth(options.width);
  const out: string[] = [
    'Usage: ampio-bridge serve [flags]',
    '',
    ...wrap(
      `Runs the bridge: opens the CAN buses and serves them to the clients of every wire protocol turned on (${protocolList()}), ` +
        'all sharing the bus: cannelloni TCP v1 on --listen (one port per bus), each other protocol on its own --<protocol>-listen ' +
        "(socketcand for python-can, SavvyCAN and Kayak; GVRET for SavvyCAN and WireTAP; waveshare for Home Assistant's Ampio integration), " +
        'cannelloni over UDP on --cannelloni-udp; the bridge dials out to a server with --cannelloni-connect or --tcpcan-connect. ' +
        'Beside the bus it keeps what is asked of it: a record of every frame (--capture, forwarded to PostgreSQL with --pg-url), ' +
        'the house decoded from the bus (Ampio modules and their state, for MQTT and the web page), ' +
        'metrics, mDNS and the control socket that status and top read. ' +
        'Try it without hardware: ampio-bridge serve --backend virtual --listen 127.0.0.1:20000',
      width,
      '',
    ),
    '',
    ...wrap(
      `Every flag can also be set with an environment variable (shown below) or a key of the same name in a JSON config file: ` +
        `${SYSTEM_CONFIG_DIR}/config.json when running as root, else ~/.config/ampio-bridge/config.json ($XDG_CONFIG_HOME); ` +
        `--config PATH or ${CONFIG_ENV} picks another. Precedence: flag > environment > config file > default. ` +
        `go-ampio-server's CAN_SERVER_* variables still work, with a warning.`,
      width,
      '',
    ),
  ];
  for (const group of GROUP_ORDER) {
    const names = OPTION_NAMES.filter((n) => OPTIONS[n].group === group);
    if (names.length === 0) continue;
    out.push('', `${GROUP_TITLES[group]}:`);
    for (const name of names) {
      const spec = OPTIONS[name] as OptionSpec<unknown>;
      out.push(`  ${flagSynopsis(name)}`);
      out.push(...wrap(spec.help, width, '      '));
      out.push(...wrap(`env ${envNameFor(spec.flag)}, default ${defaultText(name)}`, width, '      '));
    }
  }
  out.push(
    '',
    'Other:',
    '  --config <path>',
    ...wrap(`config file to read instead of the default location; env ${CONFIG_ENV}`, width, '      '),
    '  -h, --help',
    '      show this help',
    '',
    ...wrap('Exit codes: 0 stopped cleanly, 1 failed at run time (port in use, backend cannot open), 2 bad flags or config (nothing started).', width, ''),
  );
  return `${out.join('\n')}\n`;
}

export function renderMainHelp(version: string, options: HelpOptions = {}): string {
  const width = clampWidth(options.width);
  const nameWidth = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const out = [
    ...wrap(
      `ampio-bridge ${version}: puts an Ampio CAN bus on the network. One daemon for the Raspberry Pi serves the bus ` +
        `to ${protocolList()} clients at once, records every frame (capture, PostgreSQL) ` +
        'and decodes the house (Ampio modules and their state, for MQTT and the web page).',
      width,
      '',
    ),
    '',
    'Usage: ampio-bridge <command> [flags]',
    '',
    'Commands:',
  ];
  for (const c of COMMANDS) {
    const [first, ...rest] = wrap(c.summary, width - 2 - nameWidth, '');
    out.push(`  ${c.name.padEnd(nameWidth)}${first ?? ''}`);
    for (const line of rest) out.push(`  ${' '.repeat(nameWidth)}${line}`);
  }
  out.push(
    '',
    'Flags:',
    '  -h, --help     show this help',
    '  -v, --version  print version, commit and build date',
    '',
    'Run "ampio-bridge <command> --help" for the flags of a command.',
    'Without CAN hardware: ampio-bridge serve --backend virtual --listen 127.0.0.1:20000',
  );
  return `${out.join('\n')}\n`;
}

function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The README's flag table (between `<!-- options:start -->` and `<!-- options:end -->`). */
export function renderOptionsMarkdownTable(): string {
  const rows = ['| Flag | Environment variable | Default | Description |', '| --- | --- | --- | --- |'];
  for (const group of GROUP_ORDER) {
    for (const name of OPTION_NAMES.filter((n) => OPTIONS[n].group === group)) {
      const spec = OPTIONS[name] as OptionSpec<unknown>;
      const description = `${spec.help}. *Accepts:* ${spec.expected}`;
      rows.push(`| \`--${spec.flag}\` | \`${envNameFor(spec.flag)}\` | \`${markdownCell(defaultText(name))}\` | ${markdownCell(description)} |`);
    }
  }
  rows.push(
    `| \`--config\` | \`${CONFIG_ENV}\` | \`${SYSTEM_CONFIG_DIR}/config.json\` (root), else \`~/.config/ampio-bridge/config.json\` | JSON config file; keys are the flag names without dashes. |`,
  );
  return `${rows.join('\n')}\n`;
}

export const README_TABLE_START = '<!-- options:start -->';
export const README_TABLE_END = '<!-- options:end -->';

/** Returns `readme` with the generated table between the markers (markers must exist). */
export function replaceReadmeTable(readme: string): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README has no ${README_TABLE_START} … ${README_TABLE_END} section`);
  return `${readme.slice(0, start + README_TABLE_START.length)}\n${renderOptionsMarkdownTable()}${readme.slice(end)}`;
}
