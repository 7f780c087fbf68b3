// One tmux harness for the terminal-UI tests: a private tmux server (never the user's, and
// killed whole at the end), keys in with send-keys, the screen back with capture-pane, and
// waiting for a screen through vi.waitFor.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { requireHostTools } from './host-tools.js';

const run = promisify(execFile);

export type ScreenMatch = string | RegExp | ((screen: string) => boolean);

export interface TmuxOptions {
  /** The environment of the tmux server and so of what runs in it (default: this process's). */
  env?: Record<string, string>;
  /** capture-pane with joined lines and 200 lines of history (wizards that scroll). */
  history?: boolean;
}

export interface TmuxHarness {
  /** Any tmux command against the private server; resolves with its stdout. */
  tmux(...args: string[]): Promise<string>;
  /** A detached session of cols × rows running `command` (one shell word list). */
  start(session: string, size: { cols: number; rows: number }, ...command: string[]): Promise<void>;
  screen(session: string): Promise<string>;
  keys(session: string, ...keys: string[]): Promise<void>;
  /** Resolves with the screen once it matches; fails after `timeoutMs` showing the last screen. */
  waitFor(session: string, match: ScreenMatch, what?: string, timeoutMs?: number): Promise<string>;
  /** Kills the private server (and everything in it); fine to call when it is gone. */
  kill(): Promise<void>;
}

export function createTmux(server: string, options: TmuxOptions = {}): TmuxHarness {
  requireHostTools('tmux');
  const tmux = async (...args: string[]): Promise<string> =>
    (await run('tmux', ['-L', server, '-f', '/dev/null', ...args], { env: options.env ?? process.env, encoding: 'utf8', timeout: 10_000 })).stdout;
  const screen = (session: string) => tmux('capture-pane', '-p', ...(options.history ? ['-J', '-S', '-200'] : []), '-t', session);
  return {
    tmux,
    async start(session, size, ...command) {
      await tmux('new-session', '-d', '-s', session, '-x', String(size.cols), '-y', String(size.rows), ...command);
    },
    screen,
    async keys(session, ...keys) {
      await tmux('send-keys', '-t', session, ...keys);
    },
    waitFor(session, match, what = String(match), timeoutMs = 15_000) {
      const test = typeof match === 'function' ? match : typeof match === 'string' ? (s: string) => s.includes(match) : (s: string) => match.test(s);
      return vi.waitFor(
        async () => {
          const text = await screen(session);
          if (!test(text)) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
          return text;
        },
        { timeout: timeoutMs, interval: 100 },
      );
    },
    async kill() {
      await tmux('kill-server').catch(() => {});
    },
  };
}
