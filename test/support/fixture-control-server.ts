// The real control-socket server (src/control/control-server.ts) on a temp Unix socket, fed
// from a fixture snapshot the test can change, so `top` can be driven end to end without a
// daemon: state the test controls, real NDJSON, real sockets, real reconnects.

import { createControlServer, type ControlServer } from '../../src/control/control-server.js';
import type { DaemonEvent, Snapshot } from '../../src/control/protocol.js';

export interface FixtureControlServer {
  readonly path: string;
  /** The snapshot served; mutate it or replace it between reads. */
  state: Snapshot;
  /** Client ids kicked through the socket, in order. */
  readonly kicks: number[];
  emit(event: DaemonEvent): void;
  /** Open control connections right now. */
  readonly connections: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFixtureControlServer(path: string, initial: Snapshot): Promise<FixtureControlServer> {
  const listeners = new Set<(e: DaemonEvent) => void>();
  const kicks: number[] = [];
  let server: ControlServer | null = null;
  const fixture: FixtureControlServer = {
    path,
    state: initial,
    kicks,
    emit(event) {
      for (const l of listeners) l(event);
    },
    get connections() {
      return server?.connections ?? 0;
    },
    async start() {
      server = createControlServer({
        path,
        helloInfo: { daemon: fixture.state.daemon.version, pid: fixture.state.daemon.pid },
        log: () => {},
        source: {
          // The daemon stamps each snapshot with its clock; so does this fixture.
          snapshot: () => ({ ...fixture.state, time: Date.now() }),
          kick(id) {
            const found = fixture.state.clients.some((c) => c.id === id);
            if (!found) return false;
            kicks.push(id);
            fixture.state = {
              ...fixture.state,
              clients: fixture.state.clients.filter((c) => c.id !== id),
              totals: { ...fixture.state.totals, kicked: fixture.state.totals.kicked + 1, active: fixture.state.totals.active - 1 },
            };
            return true;
          },
          onEvent(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        },
      });
      await server.start();
    },
    async stop() {
      await server?.stop();
      server = null;
    },
  };
  await fixture.start();
  return fixture;
}
