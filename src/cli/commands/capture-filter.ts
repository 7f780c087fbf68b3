// What every capture subcommand that reads the store shares: its flags for the store and
// the frame filter, and turning them into a store path and a FrameFilter. One place, so
// query, export and replay filter alike.
import { loadConfig } from '../../config/load.js';
import { DIRECTIONS, type Direction } from '../../capture/schema.js';
import { type FrameFilter, parseIdFilter, parseTimeArg } from '../../capture/store-query.js';
import type { CliContext } from '../context.js';
import type { DaemonCapture } from '../daemon-capture.js';

export const DEFAULT_STORE = '/var/lib/ampio-bridge/capture.db';

/** --capture and the filter flags (parseArgs form). */
export const FILTER_FLAGS = {
  capture: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  bus: { type: 'string' },
  id: { type: 'string' },
  direction: { type: 'string' },
  limit: { type: 'string' },
} as const;

export function storePath(flag: string | boolean | undefined, ctx: CliContext, daemon?: DaemonCapture): string {
  if (typeof flag === 'string' && flag.trim() !== '') return flag.trim();
  if (daemon?.reached && daemon.capture) return daemon.capture.path;
  const loaded = loadConfig({ argv: [], env: ctx.env, isRoot: ctx.isRoot, cwd: ctx.cwd });
  if (loaded.ok && loaded.config.capture) return loaded.config.capture;
  return DEFAULT_STORE;
}

export function filterFrom(values: Record<string, string | boolean | undefined>, sub: string, now: number): FrameFilter {
  const text = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const filter: FrameFilter = {};
  if (text('since')) filter.sinceUs = parseTimeArg(text('since')!, now) * 1000;
  if (text('until')) filter.untilUs = parseTimeArg(text('until')!, now) * 1000;
  if (text('bus'))
    filter.buses = text('bus')!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (text('id')) filter.id = parseIdFilter(text('id')!);
  if (text('direction')) {
    const dirs = text('direction')!
      .split(',')
      .map((s) => s.trim());
    for (const d of dirs) if (!DIRECTIONS.includes(d as Direction)) throw new Error(`--direction "${d}" is not rx, tx or refused`);
    filter.directions = dirs as Direction[];
  } else if (sub === 'export') {
    // A log to replay holds what was on the bus; refused frames never were.
    filter.directions = ['rx', 'tx'];
  }
  const limit = text('limit');
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit)) throw new Error(`--limit "${limit}" is not a whole number`);
    filter.limit = Number(limit);
  } else if (sub === 'query') filter.limit = 1000;
  return filter;
}
