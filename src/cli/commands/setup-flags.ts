// `ampio-bridge setup` flags, in the table-driven flag layer every command uses. Every wizard
// question has a flag, so `--yes` plus flags is a complete, prompt-free install (an
// "unattended" installer that still prompts cannot be scripted).
//
// The answers that are `serve` settings (setup writes them to config.json) are generated
// from their options-table entries: the same flag name, parser, accepted form, choices and
// help, so setup refuses on its command line exactly what serve would refuse at start, and
// a change to an entry changes both commands. A `note` adds only what setup does besides
// writing the setting, and setup's own default. The other flags are setup's own: the
// hardware (HAT, crystal, INT pin), the kernel's link settings and how setup runs.

import { type Config, enumParser, formatOptionValue, OPTIONS, type OptionName, OptionValueError, parseBool, PROTOCOL_PLUGINS } from '../../config/options.js';
import type { Answers, RebootMode, SetupFlags } from '../../../provisioning/types.js';
import type { CliContext } from '../context.js';
import { type CommandFlag, type CommandSpec, optionFlag, type OptionFlagExtras, parseCommandFlags } from '../flags.js';

const ANSWERS = 'Answers (each question of the wizard has a flag; defaults come from this system)';
const BEHAVIOUR = 'Behaviour';

interface Mirrored {
  flag: CommandFlag;
  /** The parsed value (from the serve entry's parser) as setup's answer. */
  answer(value: unknown): Partial<Answers>;
}

/** A setup flag generated from the serve option `name`. */
function mirror<N extends OptionName>(name: N, answer: (value: Config[N]) => Partial<Answers>, extras: OptionFlagExtras = {}): Mirrored {
  return { flag: optionFlag(OPTIONS[name], { section: ANSWERS, ...extras }), answer: answer as (value: unknown) => Partial<Answers> };
}

/** Answers kept as text take the table's text form (`off` → '', `[::1]:20000` as written). */
const text = (name: OptionName, value: unknown): string => formatOptionValue(name, value);

/** Setup's answers that are serve settings, in the order the wizard asks them. */
export const MIRRORED_FLAGS = {
  backend: mirror('backend', (v) => ({ backend: v as Answers['backend'] }), {
    only: ['socketcan', 'serial'],
    refusal: 'is for trying the bridge without hardware: setup installs socketcan (a CAN HAT) or serial (the Ampio USB adapter)',
    note: 'setup installs socketcan or serial',
  }),
  'can-if': mirror('canIf', (v) => ({ interfaces: [...v] }), { note: 'setup brings these up with --bitrate, --restart-ms and --txqueuelen at every boot' }),
  'can-rcvbuf': mirror('canRcvbuf', (v) => ({ canRcvbuf: v }), {
    note: 'setup also raises net.core.rmem_max to it (/etc/sysctl.d/60-ampio-bridge.conf), so the unprivileged service gets it',
  }),
  bitrate: mirror('bitrate', (v) => ({ bitrate: v }), { note: 'setup also sets it on the CAN interfaces (default 50000, the Ampio bus)' }),
  listen: mirror('listen', (v) => ({ listen: text('listen', v) }), { note: "setup's default :20000" }),
  'max-clients': mirror('maxClients', (v) => ({ maxClients: v })),
  'hub-policy': mirror('hubPolicy', (v) => ({ hubPolicy: v })),
  'mdns-enable': mirror('mdnsEnable', (v) => ({ mdns: v })),
  'metrics-addr': mirror('metricsAddr', (v) => ({ metricsAddr: text('metricsAddr', v) }), {
    note: "setup's default 127.0.0.1:9100; written only while --http-listen is off (that server serves /metrics)",
  }),
  'http-listen': mirror('httpListen', (v) => ({ httpListen: text('httpListen', v) }), { note: "setup's default :8080 (the local network; --allow applies)" }),
  // Each protocol setup offers (its plug-in's setup question), in registry order.
  ...Object.fromEntries(
    PROTOCOL_PLUGINS.filter((p) => p.setup?.ask === 'offer').map((p) => {
      const name = p.listen as OptionName;
      const note = p.setup?.offeredOn ? `setup's default ${p.setup.address}` : `setup offers ${p.setup?.address} (moved up to free ports)`;
      return [OPTIONS[name].flag, mirror(name, (v) => ({ listeners: { [name]: text(name, v) } }), { note })];
    }),
  ),
  // Each server a protocol can dial out to (its plug-in's dialQuestion).
  ...Object.fromEntries(
    PROTOCOL_PLUGINS.filter((p) => p.connect && p.dialQuestion).map((p) => {
      const name = p.connect as OptionName;
      return [OPTIONS[name].flag, mirror(name, (v) => ({ listeners: { [name]: text(name, v) } }), { note: 'setup asks for it; empty = none' })];
    }),
  ),
  // The discovery broadcasts setup asks about (default no: they reach the whole LAN).
  ...Object.fromEntries(
    PROTOCOL_PLUGINS.filter((p) => p.setup?.ask === 'offer' && p.setup.discoveryQuestion && p.discovery).map((p) => {
      const name = p.discovery!.option as OptionName;
      return [
        OPTIONS[name].flag,
        mirror(name, (v) => ({ discovery: { [name]: v as boolean } }), { note: "setup's default off (it broadcasts to the whole LAN)" }),
      ];
    }),
  ),
  capture: mirror('capture', (v) => ({ capture: v }), { note: "setup's default /var/lib/ampio-bridge/capture.db" }),
  'mqtt-url': mirror('mqttUrl', (v) => ({ mqttUrl: v }), { note: 'setup connects to it once before writing it' }),
  allow: mirror('allow', (v) => ({ allow: text('allow', v) })),
  'tx-rate': mirror('txRate', (v) => ({ txRate: text('txRate', v) })),
  serial: mirror('serial', (v) => ({ serial: v })),
} satisfies Record<string, Mirrored>;

function wholeNumber(raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new OptionValueError(`"${raw}" is not a whole number`);
  return Number(raw.trim());
}

function absolutePath(why: string): (raw: string) => string {
  return (raw) => {
    if (!raw.startsWith('/')) throw new OptionValueError(`"${raw}" is not an absolute path (${why})`);
    return raw;
  };
}

const REBOOT_MODES = ['ask', 'never', 'now'] as const satisfies readonly RebootMode[];

/** Setup's own answers: hardware and kernel link settings serve never reads. */
const SETUP_ANSWERS: Record<string, CommandFlag> = {
  hat: { type: 'string', value: 'id', help: 'CAN HAT model (see overlays/catalog.json; default waveshare-2ch-can-hat)', section: ANSWERS },
  oscillator: {
    type: 'string',
    value: 'hz',
    help: 'crystal of a generic MCP2515 board (e.g. 16000000)',
    parse: wholeNumber,
    expected: 'a frequency in Hz',
    section: ANSWERS,
  },
  interrupt: {
    type: 'string',
    value: 'gpio',
    help: 'INT pin (BCM GPIO) of a generic MCP2515 board',
    parse: wholeNumber,
    expected: 'a BCM GPIO number',
    section: ANSWERS,
  },
  txqueuelen: { type: 'string', value: 'n', help: 'kernel TX queue per interface (default 100)', parse: wholeNumber, expected: 'frames', section: ANSWERS },
  'restart-ms': {
    type: 'string',
    value: 'ms',
    help: 'bus-off auto restart (default 100; 0 = never)',
    parse: wholeNumber,
    expected: 'milliseconds',
    section: ANSWERS,
  },
  migrate: {
    type: 'boolean',
    negatable: true,
    help: 'take over an existing go-ampio-server (can-server.service)',
    parse: parseBool,
    expected: 'true or false',
    section: ANSWERS,
  },
  node: {
    type: 'string',
    value: 'path',
    help: 'node binary for the service (default: the one running setup)',
    parse: absolutePath('systemd needs one'),
    section: ANSWERS,
  },
  'http-token': {
    type: 'string',
    choices: ['new', 'off'],
    help: "the web page's write token: new = make one (printed once; only its hash is stored, in the root-only config.json), off = no writes from the web page (default: keep)",
    parse: enumParser(['new', 'off'] as const),
    expected: 'new or off',
    section: ANSWERS,
  },
};

const SETUP_BEHAVIOUR: Record<string, CommandFlag> = {
  yes: { type: 'boolean', short: 'y', help: 'never ask: defaults + flags; missing answers are an error', section: BEHAVIOUR },
  'dry-run': { type: 'boolean', help: 'print the facts and the plan, change nothing', section: BEHAVIOUR },
  reboot: {
    type: 'string',
    choices: REBOOT_MODES,
    help: 'when the boot config changed (default ask)',
    parse: enumParser(REBOOT_MODES),
    expected: 'ask, never or now',
    section: BEHAVIOUR,
  },
  root: {
    type: 'string',
    value: 'dir',
    help: 'set up an image or another root: files only, live commands listed',
    parse: (raw) => {
      if (raw === '/') throw new OptionValueError('/ is the running system: leave --root out instead');
      return absolutePath('the image is mounted somewhere')(raw);
    },
    section: BEHAVIOUR,
  },
  rollback: { type: 'boolean', help: 'restore the files of the last run byte-for-byte', section: BEHAVIOUR },
  uninstall: { type: 'boolean', help: 'remove what setup installed and disable the service', section: BEHAVIOUR },
  'no-color': { type: 'boolean', help: 'plain output (also NO_COLOR=1)', section: BEHAVIOUR },
};

const MIRRORED_ENTRIES = Object.entries(MIRRORED_FLAGS) as [string, Mirrored][];
const mirroredFlag = (name: string): Record<string, CommandFlag> => ({ [name]: (MIRRORED_FLAGS as Record<string, Mirrored>)[name].flag });

export const SETUP: CommandSpec = {
  name: 'setup',
  usage: 'setup [flags]',
  description: `Sets up this Raspberry Pi as a bridge: CAN HAT overlay in config.txt, CAN interfaces
(bitrate, restart-ms, txqueuelen) that survive a reboot, a service user, the config file
and a hardened systemd service with mDNS. Shows every change before making it; backs up
every file it touches. Safe to run again: the same answers change nothing.
The answers that are serve settings take what \`ampio-bridge serve\` takes, in the same form.`,
  // The wizard's order: hardware first, then the network, then the rest.
  flags: {
    ...mirroredFlag('backend'),
    hat: SETUP_ANSWERS.hat,
    oscillator: SETUP_ANSWERS.oscillator,
    interrupt: SETUP_ANSWERS.interrupt,
    ...mirroredFlag('can-if'),
    ...mirroredFlag('bitrate'),
    txqueuelen: SETUP_ANSWERS.txqueuelen,
    'restart-ms': SETUP_ANSWERS['restart-ms'],
    ...Object.fromEntries(MIRRORED_ENTRIES.filter(([n]) => !['backend', 'can-if', 'bitrate'].includes(n)).map(([n, m]) => [n, m.flag])),
    'http-token': SETUP_ANSWERS['http-token'],
    migrate: SETUP_ANSWERS.migrate,
    node: SETUP_ANSWERS.node,
    ...SETUP_BEHAVIOUR,
  },
  footer: `Exit codes: 0 done (or nothing to change), 1 failed (files changed so far are backed up),
2 bad flags or answers --yes cannot guess, 130 cancelled.`,
  width: 100,
};

/** Reads setup's command line; usage problems and `--help` are written here (exit 2 / 0). */
export function parseSetupFlags(args: string[], ctx: Pick<CliContext, 'stdout' | 'stderr'>): SetupFlags | { exit: number } {
  const result = parseCommandFlags(SETUP, args, ctx, { unknownOnly: true });
  if ('exit' in result) return result;
  const { values, parsed } = result;
  if (values.rollback && values.uninstall) {
    ctx.stderr.write('ampio-bridge setup: --rollback and --uninstall cannot be combined\n');
    return { exit: 2 };
  }
  const answers: Partial<Answers> = {};
  for (const [name, m] of MIRRORED_ENTRIES) {
    if (!(name in parsed)) continue;
    const part = m.answer(parsed[name]);
    Object.assign(
      answers,
      part,
      part.listeners ? { listeners: { ...answers.listeners, ...part.listeners } } : {},
      part.discovery ? { discovery: { ...answers.discovery, ...part.discovery } } : {},
    );
  }
  if (typeof values.hat === 'string') answers.board = values.hat;
  if ('oscillator' in parsed) answers.oscillator = parsed.oscillator as number;
  if ('interrupt' in parsed) answers.interrupt = parsed.interrupt as number;
  if ('txqueuelen' in parsed) answers.txqueuelen = parsed.txqueuelen as number;
  if ('restart-ms' in parsed) answers.restartMs = parsed['restart-ms'] as number;
  if ('migrate' in parsed) answers.migrate = parsed.migrate as boolean;
  if ('http-token' in parsed) answers.httpToken = parsed['http-token'] as 'new' | 'off';
  return {
    args,
    mode: values.rollback ? 'rollback' : values.uninstall ? 'uninstall' : 'install',
    yes: values.yes === true,
    dryRun: values['dry-run'] === true,
    root: (parsed.root as string | undefined) ?? null,
    reboot: (parsed.reboot as RebootMode | undefined) ?? 'ask',
    node: (parsed.node as string | undefined) ?? null,
    color: values['no-color'] ? false : null,
    answers,
  };
}
