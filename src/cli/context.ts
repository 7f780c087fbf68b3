// What a command gets from the outside world. main.ts builds it from `process`; tests build
// one with captured streams and a manual signal source (test/support/manual-signals.ts),
// so every command runs in-process with no global state touched.

import type { Readable, Writable } from 'node:stream';

/** An output stream; `columns`/`isTTY` are present when it is a terminal. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

export type CliSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** Where signals come from: `process` in production, a manual emitter in tests. */
export interface SignalSource {
  /** Subscribes; returns the function that unsubscribes. */
  on(signal: CliSignal, handler: (signal: CliSignal) => void): () => void;
}

export interface CliContext {
  /** How the user invoked us, for messages ("ampio-bridge"). */
  argv0: string;
  env: Record<string, string | undefined>;
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: Readable;
  /** Whether stdout is a terminal (colours, Ink, wizards; else plain one-shot output). */
  isTTY: boolean;
  cwd: string;
  /** Running as root: the config file lives in /etc/ampio-bridge, setup may change the system. */
  isRoot: boolean;
  signals: SignalSource;
  /** Where the system service keeps its control socket (default /run/ampio-bridge); tests point it elsewhere. */
  systemRuntimeDir?: string;
}

/** A command module under src/cli/commands/: `run` resolves with the exit code. */
export interface CommandModule {
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** Exit codes shared by all commands. */
export const EXIT = {
  ok: 0,
  /** Something failed at run time (port in use, backend cannot open, daemon unreachable). */
  failure: 1,
  /** The command line or config was wrong: nothing was started. */
  usage: 2,
  /** `status`, `top --json/--once`: the bridge is not running (scripts tell it from other failures). */
  notRunning: 3,
} as const;

/**
 * Signals delivered by the real process. One process listener per signal fans out to the
 * subscribers, so a signal is counted once however many subscribed. The second SIGINT or
 * SIGTERM calls `onRepeatedStop` (main.ts exits at once): an operator pressing Ctrl-C twice
 * must never be stuck behind a shutdown that hangs. Subscribing replaces Node's default
 * "die on SIGINT", which is why commands that do not subscribe keep it.
 */
export function createProcessSignals(onRepeatedStop: (signal: CliSignal) => void): SignalSource {
  const handlers = new Map<CliSignal, Set<(signal: CliSignal) => void>>();
  let stops = 0;
  const dispatch = (signal: CliSignal) => {
    if (signal !== 'SIGHUP' && ++stops > 1) {
      onRepeatedStop(signal);
      return;
    }
    for (const h of [...(handlers.get(signal) ?? [])]) h(signal);
  };
  const listeners = new Map<CliSignal, () => void>();
  return {
    on(signal, handler) {
      let set = handlers.get(signal);
      if (!set) {
        handlers.set(signal, (set = new Set()));
        const listener = () => dispatch(signal);
        listeners.set(signal, listener);
        process.on(signal, listener);
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(signal) === set) {
          handlers.delete(signal);
          process.off(signal, listeners.get(signal) as () => void);
          listeners.delete(signal);
        }
      };
    },
  };
}
