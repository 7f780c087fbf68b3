// `doctor` checks of frame capture: the store opens, its directory is writable, how full it
// is against --capture-max-size and --capture-retention, and the PostgreSQL target answers.
// Read-only: the store is opened read-only, PostgreSQL only sees SELECTs.
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatAge, formatByteSize, OPTIONS } from '../config/options.js';
import { loadSqlite } from './sqlite-binding.js';
import { CaptureStore } from './sqlite-store.js';
import { parseTableName, redactUrl } from './pg-schema.js';
import { humanAge, humanBytes } from './units.js';

export interface CaptureCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  title: string;
  detail?: string;
  fix?: string;
}

function setting<T>(cfg: Record<string, unknown>, env: Record<string, string | undefined>, flag: string, parse: (raw: string) => T, fallback: T): T {
  const envName = `AMPIO_BRIDGE_${flag.toUpperCase().replace(/-/g, '_')}`;
  const raw = env[envName] ?? (cfg[flag] === undefined ? undefined : String(cfg[flag]));
  if (raw === undefined || raw === '') return fallback;
  try {
    return parse(raw);
  } catch {
    return fallback;
  }
}

export async function captureChecks(cfg: Record<string, unknown>, env: Record<string, string | undefined>): Promise<CaptureCheck[]> {
  const path = setting(cfg, env, 'capture', (r) => r.trim(), '');
  if (!path) return [{ id: 'capture', status: 'ok', title: 'frame capture', detail: 'off (--capture not set)' }];
  const checks: CaptureCheck[] = [];
  const maxBytes = setting(cfg, env, 'capture-max-size', OPTIONS.captureMaxSize.parse, OPTIONS.captureMaxSize.default);
  const retention = setting(cfg, env, 'capture-retention', OPTIONS.captureRetention.parse, OPTIONS.captureRetention.default);
  const title = `capture store ${path}`;
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch {
    checks.push({
      id: 'capture-dir',
      status: 'fail',
      title: `capture directory ${dirname(path)}`,
      detail: 'missing or not writable',
      fix: 'create it for the bridge user (setup uses /var/lib/ampio-bridge, StateDirectory= of the unit)',
    });
  }
  const free = freeBytes(dirname(path));
  if (free !== null && free < LOW_SPACE_BYTES) {
    checks.push({
      id: 'capture-space',
      status: 'fail',
      title: `free space for ${path}`,
      detail: `${humanBytes(free)} left: capture cannot record (the bridge says "disk full" in status and logs capture_write_failed)`,
      fix: 'free space on that file system, or lower --capture-max-size; capture resumes by itself',
    });
  }
  let store: CaptureStore | null = null;
  try {
    // Every page, as the bridge checks it at start: damage anywhere is reported here too.
    store = CaptureStore.open(await loadSqlite(), { path, readonly: true, check: true });
    const s = store.summary();
    const span = s.oldestUs === null ? 'empty' : `oldest frame ${humanAge(Date.now() - s.oldestUs / 1000)} ago`;
    const full = maxBytes > 0 ? s.usedBytes / maxBytes : 0;
    checks.push({
      id: 'capture',
      status: 'ok',
      title,
      detail: `${s.rows} frames, ${humanBytes(s.bytes)}${maxBytes > 0 ? ` of ${formatByteSize(maxBytes)} (${Math.round(full * 100)} %)` : ''}, ${span}, retention ${retention > 0 ? formatAge(retention) : 'off'}`,
    });
    if (maxBytes > 0 && full > 0.85 && s.oldestUs !== null && retention > 0) {
      const heldMs = Date.now() - s.oldestUs / 1000;
      if (heldMs < retention) {
        checks.push({
          id: 'capture-size',
          status: 'warn',
          title: 'capture history shorter than the retention',
          detail: `the size bound keeps only ${humanAge(heldMs)} of frames, less than --capture-retention ${formatAge(retention)}`,
          fix: 'raise --capture-max-size if the disk allows it',
        });
      }
    }
  } catch (err) {
    const e = err as Error & { hint?: string; code?: string };
    checks.push(
      e.code === 'not_found'
        ? { id: 'capture', status: 'warn', title, detail: 'no store yet (created when the bridge starts)' }
        : { id: 'capture', status: 'fail', title, detail: e.message, fix: e.hint },
    );
  } finally {
    store?.close();
  }
  const url = setting(cfg, env, 'pg-url', (r) => r.trim(), '');
  if (url) checks.push(await pgCheck(url, setting(cfg, env, 'pg-table', parseTableName, 'can_frames')));
  return checks;
}

/** Below this, a commit (and the WAL it grows) may not fit. */
const LOW_SPACE_BYTES = 16 * 1024 * 1024;

function freeBytes(dir: string): number | null {
  try {
    const st = statfsSync(dir);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

async function pgCheck(url: string, table: string): Promise<CaptureCheck> {
  const title = `PostgreSQL ${redactUrl(url)}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
    const present = (r.rows[0] as { present: boolean }).present;
    return {
      id: 'pg',
      status: 'ok',
      title,
      detail: present ? `connected; table ${table} present` : `connected; table ${table} is created on the first forward`,
    };
  } catch (err) {
    return {
      id: 'pg',
      status: 'fail',
      title,
      detail: (err as Error).message,
      fix: 'check --pg-url, the password (PGPASSWORD or ~/.pgpass of the bridge user) and that the server accepts connections from this host',
    };
  } finally {
    await client.end().catch(() => {});
  }
}
