// One rule for every listener: no two on one socket. Every option whose table entry declares
// `listener` (each protocol's listen address, the metrics endpoint, the control socket, and
// whatever a service adds) takes part, so a new listener is checked against all others by
// declaring it, never by another pairwise check. Pure (provisioning uses it to pick free ports).
import { isWildcardHost, type ListenAddress } from '../options/parsers.js';
import type { OptionSpec } from '../options/spec.js';

/** One socket a configuration listens on. */
export interface ConfiguredListener {
  /** The option it comes from. */
  option: string;
  /** `the <what> port of can1`, `the metrics port`: how an error names it. */
  label: string;
  /** The bus a per-bus listener serves, else null. */
  bus: number | null;
  tcp?: ListenAddress;
  /** A Unix socket path. */
  path?: string;
  /** The transport of `tcp` (the field keeps its name): a UDP port never clashes with a TCP one. */
  transport?: 'tcp' | 'udp';
}

type Spec = Pick<OptionSpec<unknown>, 'kind' | 'listener'>;

/** The sockets the values listen on, in table order (`busNames`: one per bus). */
export function configuredListeners(
  specs: Readonly<Record<string, Spec>>,
  values: Readonly<Record<string, unknown>>,
  busNames: readonly string[],
): ConfiguredListener[] {
  const out: ConfiguredListener[] = [];
  for (const [option, spec] of Object.entries(specs)) {
    const decl = spec.listener;
    const value = values[option];
    if (!decl || value === null || value === undefined || value === '') continue;
    if (spec.kind === 'path') {
      out.push({ option, label: `the ${decl.what} socket`, bus: null, path: String(value) });
      continue;
    }
    const base = value as ListenAddress;
    const transport = decl.transport ?? 'tcp';
    const kind = transport === 'udp' ? ' UDP' : '';
    if (!decl.perBus) {
      out.push({ option, label: `the ${decl.what}${kind} port`, bus: null, tcp: base, transport });
      continue;
    }
    busNames.forEach((name, i) => {
      out.push({
        option,
        label: `the ${decl.what}${kind} port of ${name}`,
        bus: i,
        tcp: { host: base.host, port: base.port === 0 ? 0 : base.port + i },
        transport,
      });
    });
  }
  return out;
}

/** Whether two listeners would bind the same socket (port 0: the OS picks distinct ports). */
export function sameSocket(a: ConfiguredListener, b: ConfiguredListener): boolean {
  if (a.path !== undefined || b.path !== undefined) return a.path !== undefined && a.path === b.path;
  if ((a.transport ?? 'tcp') !== (b.transport ?? 'tcp')) return false;
  const x = a.tcp as ListenAddress;
  const y = b.tcp as ListenAddress;
  if (x.port === 0 || y.port === 0 || x.port !== y.port) return false;
  return x.host === y.host || isWildcardHost(x.host) || isWildcardHost(y.host);
}

export interface ListenerClash {
  /** The later of the two in table order: the one an error blames, unless told otherwise. */
  listener: ConfiguredListener;
  /** The one it collides with. */
  other: ConfiguredListener;
}

/** Every pair of listeners on one socket (two options; a per-bus option never clashes with itself). */
export function listenerClashes(listeners: readonly ConfiguredListener[]): ListenerClash[] {
  const clashes: ListenerClash[] = [];
  for (let j = 0; j < listeners.length; j++) {
    for (let i = 0; i < j; i++) {
      if (listeners[i].option !== listeners[j].option && sameSocket(listeners[i], listeners[j])) clashes.push({ listener: listeners[j], other: listeners[i] });
    }
  }
  return clashes;
}

/** A per-bus listener whose last bus would need a port above 65535. */
export function portsPastEnd(specs: Readonly<Record<string, Spec>>, values: Readonly<Record<string, unknown>>, buses: number): string[] {
  return Object.entries(specs)
    .filter(([option, spec]) => {
      const v = values[option] as ListenAddress | null | undefined;
      return spec.listener?.perBus === true && spec.kind === 'address' && v && v.port !== 0 && v.port + buses - 1 > 65535;
    })
    .map(([option]) => option);
}
