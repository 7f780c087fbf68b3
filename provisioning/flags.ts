// `ampio-bridge setup` flags. Every wizard question has one, so
// `--yes` plus flags is a complete, prompt-free install (pi-hole #2164, #3617: "unattended"
// installers that still prompt). Parsed with util.parseArgs; unknown flags get the same
// one-line message as every other command, with the closest valid flag.

import { parseArgs } from 'node:util';
import { closest } from '../src/config/suggest.js';
import type { Answers } from './types.js';

export const SETUP_FLAGS = {
  backend: { type: 'string' },
  hat: { type: 'string' },
  oscillator: { type: 'string' },
  interrupt: { type: 'string' },
  'can-if': { type: 'string' },
  bitrate: { type: 'string' },
  txqueuelen: { type: 'string' },
  'restart-ms': { type: 'string' },
  listen: { type: 'string' },
  'max-clients': { type: 'string' },
  'hub-policy': { type: 'string' },
  'mdns-enable': { type: 'boolean' },
  'no-mdns-enable': { type: 'boolean' },
  'metrics-addr': { type: 'string' },
  'gvret-listen': { type: 'string' },
  'socketcand-listen': { type: 'string' },
  capture: { type: 'string' },
  allow: { type: 'string' },
  'tx-rate': { type: 'string' },
  serial: { type: 'string' },
  migrate: { type: 'boolean' },
  'no-migrate': { type: 'boolean' },
  node: { type: 'string' },
  reboot: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  root: { type: 'string' },
  rollback: { type: 'boolean' },
  uninstall: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type RebootMode = 'ask' | 'never' | 'now';

export interface SetupFlags {
  mode: 'install' | 'rollback' | 'uninstall' | 'help';
  yes: boolean;
  dryRun: boolean;
  root: string | null;
  reboot: RebootMode;
  node: string | null;
  color: boolean | null;
  /** Answers given on the command line; the wizard asks only for the rest. */
  answers: Partial<Answers>;
}

export const SETUP_HELP = `Usage: ampio-bridge setup [flags]

Sets up this Raspberry Pi as a bridge: CAN HAT overlay in config.txt, CAN interfaces
(bitrate, restart-ms, txqueuelen) that survive a reboot, a service user, the config file
and a hardened systemd service with mDNS. Shows every change before making it; backs up
every file it touches. Safe to run again: the same answers change nothing.

Answers (each question of the wizard has a flag; defaults come from this system):
  --backend socketcan|serial  CAN HAT on the Pi's pins, or the Ampio USB adapter
  --hat <id>                  CAN HAT model (see overlays/catalog.json; default waveshare-2ch-can-hat)
  --oscillator <hz>           crystal of a generic MCP2515 board (e.g. 16000000)
  --interrupt <gpio>          INT pin (BCM GPIO) of a generic MCP2515 board
  --can-if can0[,can1]        channels to serve
  --bitrate <bit/s>           bus bitrate (default 50000, the Ampio bus)
  --txqueuelen <n>            kernel TX queue per interface (default 100)
  --restart-ms <ms>           bus-off auto restart (default 100; 0 = never)
  --listen <addr>             TCP address for clients (default :20000; second bus: port + 1)
  --max-clients <n>           clients per bus, 0 = unlimited
  --hub-policy drop|kick      what happens to a client that cannot keep up
  --mdns-enable, --no-mdns-enable   advertise the bridge on the LAN (default on)
  --metrics-addr <addr>       /metrics, /ready, /healthz (default 127.0.0.1:9100; "" = off)
  --gvret-listen <addr>       GVRET for SavvyCAN/WireTAP, e.g. :23 (SavvyCAN's port; default "" = off)
  --socketcand-listen <addr>  socketcand clients: python-can, SavvyCAN, Kayak (default :29536; "" = off)
  --capture <path>            keep every bus frame for \`ampio-bridge capture query\`
                              (default /var/lib/ampio-bridge/capture.db; "" = off)
  --allow local|loopback|any|<CIDR,…>   who may connect to the bus ports (default local)
  --tx-rate <n>[/<burst>]     frames/s one client may send to the bus (default 0 = no limit)
  --serial <path>             the USB adapter (best a /dev/serial/by-id/ path)
  --migrate, --no-migrate     take over an existing go-ampio-server (can-server.service)
  --node <path>               node binary for the service (default: the one running setup)

Behaviour:
  -y, --yes                   never ask: defaults + flags; missing answers are an error
  --dry-run                   print the facts and the plan, change nothing
  --reboot ask|never|now      when the boot config changed (default ask)
  --root <dir>                set up an image or another root: files only, live commands listed
  --rollback                  restore the files of the last run byte-for-byte
  --uninstall                 remove what setup installed and disable the service
  --no-color                  plain output (also NO_COLOR=1)
  -h, --help                  show this help
`;

export class FlagError extends Error {
  readonly code = 'SETUP_USAGE';
}

export function closestFlag(name: string): string | null {
  return closest(name, Object.keys(SETUP_FLAGS)) ?? null;
}

function int(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new FlagError(`--${flag} "${raw}" is not a whole number`);
  return Number(raw);
}

/** Parses argv; throws FlagError with every problem (one per line). */
export function parseSetupFlags(args: string[]): SetupFlags {
  const { values, tokens } = parseArgs({ args, options: SETUP_FLAGS, strict: false, allowPositionals: true, tokens: true });
  const problems: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'positional') problems.push(`unexpected argument "${t.value}"`);
    if (t.kind !== 'option') continue;
    const spec = (SETUP_FLAGS as Record<string, { type: string }>)[t.name];
    if (!spec) {
      const s = closestFlag(t.name);
      problems.push(`unknown flag ${t.rawName}${s ? ` (did you mean --${s}?)` : ''}`);
    } else if (spec.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('--')))) {
      problems.push(`${t.rawName} needs a value`);
    } else if (spec.type === 'boolean' && t.inlineValue) {
      problems.push(`${t.rawName} takes no value (use --${t.name} or --no-${t.name.replace(/^no-/, '')})`);
    }
  }
  // An unknown flag's value shows up as a stray argument; name only the flag then.
  const unknown = problems.filter((p) => p.startsWith('unknown flag'));
  if (unknown.length) throw new FlagError(unknown.join('\n'));
  const v = values as Record<string, string | boolean | undefined>;
  const a: Partial<Answers> = {};
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const tryInt = (k: string, set: (n: number) => void) => {
    const raw = str(k);
    if (raw === undefined) return;
    try {
      set(int(k, raw));
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  const backend = str('backend');
  if (backend !== undefined) {
    if (backend === 'socketcan' || backend === 'serial') a.backend = backend;
    else problems.push(`--backend "${backend}" must be socketcan (a CAN HAT) or serial (the Ampio USB adapter)`);
  }
  if (str('hat') !== undefined) a.board = str('hat');
  tryInt('oscillator', (n) => (a.oscillator = n));
  tryInt('interrupt', (n) => (a.interrupt = n));
  if (str('can-if') !== undefined) a.interfaces = (str('can-if') as string).split(',').map((s) => s.trim()).filter(Boolean);
  tryInt('bitrate', (n) => (a.bitrate = n));
  tryInt('txqueuelen', (n) => (a.txqueuelen = n));
  tryInt('restart-ms', (n) => (a.restartMs = n));
  if (str('listen') !== undefined) a.listen = str('listen');
  tryInt('max-clients', (n) => (a.maxClients = n));
  const hp = str('hub-policy');
  if (hp !== undefined) {
    if (hp === 'drop' || hp === 'kick') a.hubPolicy = hp;
    else problems.push(`--hub-policy "${hp}" must be drop or kick`);
  }
  if (v['mdns-enable'] && v['no-mdns-enable']) problems.push('--mdns-enable and --no-mdns-enable contradict each other');
  else if (v['mdns-enable']) a.mdns = true;
  else if (v['no-mdns-enable']) a.mdns = false;
  if (str('metrics-addr') !== undefined) a.metricsAddr = str('metrics-addr');
  if (str('gvret-listen') !== undefined) a.gvretListen = str('gvret-listen');
  if (str('socketcand-listen') !== undefined) a.socketcandListen = str('socketcand-listen');
  if (str('capture') !== undefined) a.capture = str('capture');
  if (str('allow') !== undefined) a.allow = str('allow');
  if (str('tx-rate') !== undefined) a.txRate = str('tx-rate');
  if (str('serial') !== undefined) a.serial = str('serial');
  if (v.migrate && v['no-migrate']) problems.push('--migrate and --no-migrate contradict each other');
  else if (v.migrate) a.migrate = true;
  else if (v['no-migrate']) a.migrate = false;

  const reboot = str('reboot') ?? 'ask';
  if (reboot !== 'ask' && reboot !== 'never' && reboot !== 'now') problems.push(`--reboot "${reboot}" must be ask, never or now`);
  const root = str('root');
  if (root !== undefined && !root.startsWith('/')) problems.push(`--root "${root}" must be an absolute path`);
  if (root === '/') problems.push('--root / is the running system: leave --root out instead');
  const node = str('node');
  if (node !== undefined && !node.startsWith('/')) problems.push(`--node "${node}" must be an absolute path (systemd needs one)`);
  if (v.rollback && v.uninstall) problems.push('--rollback and --uninstall cannot be combined');

  if (problems.length) throw new FlagError(problems.join('\n'));
  return {
    mode: v.help ? 'help' : v.rollback ? 'rollback' : v.uninstall ? 'uninstall' : 'install',
    yes: v.yes === true,
    dryRun: v['dry-run'] === true,
    root: root ?? null,
    reboot: reboot as RebootMode,
    node: node ?? null,
    color: v['no-color'] ? false : null,
    answers: a,
  };
}
