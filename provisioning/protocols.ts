// The wire protocols as setup sees them, composed from their plug-ins (through the options
// table): which one is the bus port every install has, which are offered yes/no, their
// answers' defaults, the free ports a "yes" gets, and the clash check on the final answers,
// by the same rule serve applies at start. Pure. No protocol is named here.
import {
  configuredListeners,
  listenerClashes,
  OPTIONS,
  PROTOCOL_PLUGINS,
  type OptionName,
  type OptionSpec,
  type ProtocolPlugin,
  type SetupQuestion,
} from '../src/config/options.js';
import type { Answers } from './types.js';

export interface SetupProtocol {
  name: string;
  /** Its listen option (the Answers key of an offered protocol, in `listeners`). */
  option: OptionName;
  flag: string;
  question: SetupQuestion;
  /** Its discovery option, when setup asks about it (`question.discoveryQuestion`). */
  discoveryOption: OptionName | null;
}

const withSetup = PROTOCOL_PLUGINS.filter((p): p is ProtocolPlugin & { setup: SetupQuestion } => p.setup !== undefined).map(
  (p): SetupProtocol => ({
    name: p.name,
    option: p.listen as OptionName,
    flag: OPTIONS[p.listen as OptionName].flag,
    question: p.setup,
    discoveryOption: p.setup.discoveryQuestion && p.discovery ? (p.discovery.option as OptionName) : null,
  }),
);

/** The protocol whose listener every install has (`Answers.listen`). */
export const BUS_PORT: SetupProtocol = (() => {
  const found = withSetup.filter((p) => p.question.ask === 'address');
  if (found.length !== 1) throw new Error(`exactly one protocol must be the bus port (setup.ask = 'address'), found ${found.length}`);
  return found[0];
})();

/** The protocols setup offers yes/no, in registry order (`Answers.listeners`). */
export const OFFERED: readonly SetupProtocol[] = withSetup.filter((p) => p.question.ask === 'offer');

/** A server setup may make the bridge dial (a plug-in with `connect` and a `dialQuestion`). */
export interface SetupDial {
  name: string;
  /** Its connect option (the Answers key, in `listeners`). */
  option: OptionName;
  flag: string;
  question: string;
}

/** The dial-out targets setup asks for, in registry order. */
export const DIALS: readonly SetupDial[] = PROTOCOL_PLUGINS.flatMap((p) =>
  p.connect && p.dialQuestion ? [{ name: p.name, option: p.connect as OptionName, flag: OPTIONS[p.connect as OptionName].flag, question: p.dialQuestion }] : [],
);

/** The offered listeners of an installed config (or a fresh one: `cfg` empty). */
export function defaultListeners(cfg: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of OFFERED) {
    const v = cfg[p.flag];
    // A config without the key predates the protocol or never said yes: offered as the plug-in says.
    out[p.option] = v === undefined || v === null ? (p.question.offeredOn ? p.question.address : '') : String(v);
  }
  // Dial-out targets: what the config has, else none.
  for (const d of DIALS) out[d.option] = typeof cfg[d.flag] === 'string' ? String(cfg[d.flag]) : '';
  return out;
}

/** The asked discovery broadcasts of an installed config: what it has, else off (a fresh one: off). */
export function defaultDiscovery(cfg: Record<string, unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const p of OFFERED) if (p.discoveryOption) out[p.discoveryOption] = /^(1|true|yes|on)$/i.test(String(cfg[OPTIONS[p.discoveryOption].flag] ?? ''));
  return out;
}

/** Defaults with the given answers on top (the offered listeners and discovery merge key by key). */
export function mergeAnswers(defaults: Answers, given: Partial<Answers>): Answers {
  return { ...defaults, ...given, listeners: { ...defaults.listeners, ...given.listeners }, discovery: { ...defaults.discovery, ...given.discovery } };
}

/** The options table values the answers' listeners stand for (for the clash rule). */
function listenerValues(a: Answers, skip?: OptionName): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const parse = (name: OptionName, text: string): unknown => {
    try {
      return (OPTIONS[name] as OptionSpec<unknown>).parse(text);
    } catch {
      return null; // refused elsewhere, with the parser's words
    }
  };
  values[BUS_PORT.option] = parse(BUS_PORT.option, a.listen);
  for (const p of OFFERED) if (p.option !== skip) values[p.option] = parse(p.option, a.listeners[p.option] ?? '');
  if (a.metricsAddr.trim() !== '') values.metricsAddr = parse('metricsAddr', a.metricsAddr);
  return values;
}

/** One name per bus the install serves (the serial backend drives one). */
const busNames = (a: Answers): string[] => (a.backend === 'socketcan' ? a.interfaces : [a.interfaces[0] ?? 'bus0']);

/**
 * The address a "yes" to `p` gets: its own (or its plug-in's) address, moved up port by port
 * until none of its listeners clashes with another answer (two buses take two ports).
 */
export function freeAddress(p: SetupProtocol, a: Answers): string {
  const wanted = a.listeners[p.option] || p.question.address;
  const spec = OPTIONS[p.option] as OptionSpec<unknown>;
  let base: { host: string; port: number } | null;
  try {
    base = spec.parse(wanted) as { host: string; port: number } | null;
  } catch {
    return wanted;
  }
  if (!base) return wanted;
  const others = listenerValues(a, p.option);
  for (let port = base.port; port < 65536; port++) {
    const values = { ...others, [p.option]: { host: base.host, port } };
    const clashes = listenerClashes(configuredListeners(OPTIONS, values, busNames(a)));
    if (!clashes.some((c) => c.listener.option === p.option || c.other.option === p.option)) {
      return port === base.port ? wanted : (spec.format?.({ host: base.host, port }) ?? `${base.host}:${port}`);
    }
  }
  return wanted;
}

/** Clashes between the answers' listeners, as setup refuses them (`--flag value: why; fix`). */
export function answerClashes(a: Answers): string[] {
  return listenerClashes(configuredListeners(OPTIONS, listenerValues(a), busNames(a))).map(({ listener, other }) => {
    const flag = OPTIONS[listener.option as OptionName].flag;
    const p = [BUS_PORT, ...OFFERED].find((x) => x.option === listener.option);
    const hint = p ? `, e.g. ${freeAddress(p, { ...a, listeners: { ...a.listeners, [p.option]: '' } })}` : '';
    return `--${flag}: port ${listener.tcp?.port} is also ${other.label} (--${OPTIONS[other.option as OptionName].flag}); choose another port${hint}`;
  });
}

/** The port of a listen address below 1024 (binding it needs CAP_NET_BIND_SERVICE), else null. */
export function privilegedPort(listen: string): number | null {
  const m = /:?(\d+)$/.exec(listen.trim());
  if (!m || listen.trim() === '') return null;
  const port = Number(m[1]);
  return port > 0 && port < 1024 ? port : null;
}

/** The answered listener on a port below 1024 that its protocol's convention needs, if any. */
export function privilegedListener(a: Answers): { port: number; why: string } | null {
  for (const p of OFFERED) {
    const port = privilegedPort(a.listeners[p.option] ?? '');
    if (port !== null && p.question.privileged) return { port, why: p.question.privileged };
  }
  return null;
}
