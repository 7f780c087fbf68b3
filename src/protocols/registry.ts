// Every wire protocol the bridge speaks, in one table. Each entry is the protocol's plug-in
// (src/protocols/<name>/plugin.ts: its options, listener, discovery and setup question; pure
// data and lazy imports), so a reader finds every protocol here, and a protocol nobody enabled
// costs nothing at start-up: its implementation is imported only when its listener is on.
// Adding a protocol = a folder under src/protocols/ with its plugin.ts, and one line here.
// The order is the order of listeners, the help and README rows, and setup's questions.
import { cannelloniPlugin } from './cannelloni/plugin.js';
import { cannelloniUdpPlugin } from './cannelloni-udp/plugin.js';
import { gvretPlugin } from './gvret/plugin.js';
import { socketcandPlugin } from './socketcand/plugin.js';
import { tcpcanPlugin } from './tcpcan/plugin.js';
import type { OptionGroup, ProtocolPlugin } from './types.js';
import { wavesharePlugin } from './waveshare/plugin.js';

// socketcand before GVRET: setup writes their keys in this order, as it did before they were
// plug-ins, so an installed config.json is not rewritten only to reorder it.
export const PROTOCOLS = {
  cannelloni: cannelloniPlugin,
  tcpcan: tcpcanPlugin,
  socketcand: socketcandPlugin,
  gvret: gvretPlugin,
  waveshare: wavesharePlugin,
  'cannelloni-udp': cannelloniUdpPlugin,
} as const;

export type ProtocolName = keyof typeof PROTOCOLS;

/** The plug-ins in registry order, typed loosely (for code that treats them all alike). */
export const PLUGINS: readonly ProtocolPlugin<OptionGroup>[] = Object.values(PROTOCOLS) as unknown as ProtocolPlugin<OptionGroup>[];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every protocol's option group, merged: composed into the options table. */
export type ProtocolOptions = UnionToIntersection<(typeof PROTOCOLS)[ProtocolName]['options']>;

export const PROTOCOL_OPTIONS = Object.assign({}, ...PLUGINS.map((p) => p.options)) as ProtocolOptions;
