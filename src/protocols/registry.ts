// Every wire protocol the bridge speaks, in one table: name → the option that turns its
// listener on, and the module that implements it. A module is imported only when its
// listener is configured, so a protocol nobody enabled costs nothing at start-up.
// Adding a protocol = a folder under src/protocols/, one line here, its listen option in
// the options table.
import type { Config } from '../config/options.js';
import type { WireProtocol } from './types.js';

export interface ProtocolEntry {
  /** The Config key of its listen address (null/empty = off). */
  readonly listenOption: keyof Config;
  /** The settings are there for protocols with options of their own (GVRET's FD form); without them, the defaults. */
  readonly load: (config?: Config) => Promise<WireProtocol>;
}

export const PROTOCOLS = {
  cannelloni: { listenOption: 'listen', load: async () => (await import('./cannelloni/index.js')).default },
  tcpcan: { listenOption: 'tcpcanListen', load: async () => (await import('./tcpcan/index.js')).default },
  gvret: { listenOption: 'gvretListen', load: async (config?: Config) => (await import('./gvret/index.js')).createGvretProtocol({ fd: config?.gvretFd }) },
  socketcand: { listenOption: 'socketcandListen', load: async () => (await import('./socketcand/index.js')).default },
} as const satisfies Record<string, ProtocolEntry>;

