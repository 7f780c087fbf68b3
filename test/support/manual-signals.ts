// A signal source driven by hand: commands under test receive SIGINT/SIGTERM/SIGHUP
// without a real signal reaching the test worker.
import type { CliSignal, SignalSource } from '../../src/cli/context.js';

export function createManualSignals(): SignalSource & { emit(signal: CliSignal): void; listenerCount(signal: CliSignal): number } {
  const handlers = new Map<CliSignal, Set<(signal: CliSignal) => void>>();
  return {
    on(signal, handler) {
      let set = handlers.get(signal);
      if (!set) handlers.set(signal, (set = new Set()));
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },
    emit(signal) {
      for (const h of [...(handlers.get(signal) ?? [])]) h(signal);
    },
    listenerCount(signal) {
      return handlers.get(signal)?.size ?? 0;
    },
  };
}
