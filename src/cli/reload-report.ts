// What a SIGHUP reload could not apply. The daemon applies the `reloadable` settings live;
// a changed `structural` one (listen, hub-buffer, backend, …) keeps its old value until a
// restart, and saying nothing about it made a reload look like it had worked.
import { type Config, OPTION_NAMES, OPTIONS } from '../config/options.js';

/** Flag names of the structural settings that differ between two configs, in table order. */
export function restartNeededFor(running: Config, next: Config): string[] {
  const out: string[] = [];
  for (const name of OPTION_NAMES) {
    if (OPTIONS[name].scope !== 'structural') continue;
    if (JSON.stringify(running[name]) !== JSON.stringify(next[name])) out.push(OPTIONS[name].flag);
  }
  return out;
}

/** The log line for them: "restart needed for: listen, hub-buffer", or null when none changed. */
export function restartNeededMessage(running: Config, next: Config): { message: string; settings: string } | null {
  const flags = restartNeededFor(running, next);
  if (flags.length === 0) return null;
  return {
    message: `restart needed for: ${flags.join(', ')} (the running values stay until "sudo systemctl restart ampio-bridge")`,
    settings: flags.join(','),
  };
}
