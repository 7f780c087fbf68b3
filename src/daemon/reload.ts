// What a SIGHUP changes, by the options table: reloadable settings that differ are applied,
// structural ones keep their running value and are logged as needing a restart.
import { type Config, OPTION_NAMES, type OptionName, OPTIONS } from '../config/options.js';
import type { Logger } from '../system/logger.js';

/** The settings after a reload, and the names of those that changed. */
export function applyReload(live: Config, next: Config, log: Logger): { config: Config; changed: OptionName[] } {
  const changed: OptionName[] = [];
  const needRestart: OptionName[] = [];
  for (const name of OPTION_NAMES) {
    if (JSON.stringify(next[name]) === JSON.stringify(live[name])) continue;
    (OPTIONS[name].scope === 'reloadable' ? changed : needRestart).push(name);
  }
  const applied = { ...live } as Record<string, unknown>;
  for (const name of changed) applied[name] = next[name];
  if (needRestart.length > 0) {
    // Flag names, as people write them in the config file and on the command line.
    const flags = needRestart.map((name) => OPTIONS[name].flag);
    log.warn('reload_needs_restart', {
      settings: flags.join(','),
      message: `restart needed for: ${flags.join(', ')} (they keep their running values until "sudo systemctl restart ampio-bridge")`,
    });
  }
  return { config: Object.freeze(applied) as Config, changed };
}
