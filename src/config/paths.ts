// Where the config file lives. Separate from load.ts so help text can name the paths
// without loading conf.

import os from 'node:os';
import path from 'node:path';
import { envNameFor } from './options.js';

export const SYSTEM_CONFIG_DIR = '/etc/ampio-bridge';
export const CONFIG_FILE_NAME = 'config.json';
/** `--config PATH` may also come from the environment (systemd unit, containers). */
export const CONFIG_ENV = envNameFor('config');

/** Where `serve` looks for its config file when no --config is given. */
export function defaultConfigPath(isRoot: boolean, env: Record<string, string | undefined>, userConfigDir?: string): string {
  if (isRoot) return path.join(SYSTEM_CONFIG_DIR, CONFIG_FILE_NAME);
  return path.join(userConfigDir ?? defaultUserConfigDir(env), CONFIG_FILE_NAME);
}

/** $XDG_CONFIG_HOME/ampio-bridge, else ~/.config/ampio-bridge (XDG base directory spec). */
export function defaultUserConfigDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'ampio-bridge');
  return path.join(env.HOME || os.homedir(), '.config', 'ampio-bridge');
}
