// What a SIGHUP reload could not apply. The daemon applies some settings live and says
// which; any other changed setting (listen, hub-buffer, backend, …) keeps its old value
// until a restart, and saying nothing about it made a reload look like it had worked.
import { type Config, OPTION_NAMES, OPTIONS } from '../config/options.js';

/**
 * Flag names of the settings that differ between two configs and were not applied live
 * (`applied`: option names the reload did apply), in table order.
 */
export function restartNeededFor(running: Config, next: Config, applied: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of OPTION_NAMES) {
    if (applied.includes(name)) continue;
    if (JSON.stringify(running[name]) !== JSON.stringify(next[name])) out.push(OPTIONS[name].flag);
  }
  return out;
}

/** The log line for them: "restart needed for: listen, hub-buffer", or null when none changed. */
export function restartNeededMessage(running: Config, next: Config, applied: readonly string[]): { message: string; settings: string } | null {
  const flags = restartNeededFor(running, next, applied);
  if (flags.length === 0) return null;
  return {
    message: `restart needed for: ${flags.join(', ')} (the running values stay until "sudo systemctl restart ampio-bridge")`,
    settings: flags.join(','),
  };
}

/** What the daemon runs with after the reload: the new value where applied, else the old one. */
export function runningAfterReload(running: Config, next: Config, applied: readonly string[]): Config {
  const out: Record<string, unknown> = { ...next };
  for (const name of OPTION_NAMES) if (!applied.includes(name)) out[name] = running[name];
  return out as Config;
}
