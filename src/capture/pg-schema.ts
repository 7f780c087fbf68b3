// The PostgreSQL side of forwarding: the table the forwarder creates when it is absent.
// One row per frame, readable without knowing the store's bit packing; the primary key
// (site, bus, seq, ts) is what makes re-sent batches harmless. `ts` is in the key because
// TimescaleDB requires the time column in every unique index of a hypertable.
import type pg from 'pg';

/** Per connection; COPY goes here first, then INSERT … ON CONFLICT DO NOTHING into the table. */
export const STAGE_TABLE = 'ampio_bridge_stage';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `can_frames` or `schema.can_frames`; anything else is refused (it goes into SQL text). */
export function parseTableName(raw: string): string {
  const parts = raw.trim().split('.');
  if (parts.length > 2 || parts.some((p) => !IDENT.test(p))) {
    throw new Error(`"${raw}" is not a table name (letters, digits and _, optionally schema.table)`);
  }
  return parts.join('.');
}

export function quoteTable(name: string): string {
  return parseTableName(name)
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

function indexName(name: string): string {
  return `"${parseTableName(name).replace('.', '_')}_ts_idx"`;
}

/** CREATE … IF NOT EXISTS statements; a hypertable where the timescaledb extension is installed. */
export async function createTableSql(client: pg.Client, name: string): Promise<string[]> {
  const table = quoteTable(name);
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${table} (
      site text NOT NULL,
      host text NOT NULL,
      bus text NOT NULL,
      seq bigint NOT NULL,
      ts timestamptz NOT NULL,
      can_id integer NOT NULL,
      extended boolean NOT NULL,
      rtr boolean NOT NULL,
      error boolean NOT NULL,
      fd boolean NOT NULL,
      brs boolean NOT NULL,
      esi boolean NOT NULL,
      dlc smallint NOT NULL,
      data bytea NOT NULL,
      direction text NOT NULL,
      protocol text,
      session integer,
      reason text,
      PRIMARY KEY (site, bus, seq, ts)
    )`,
  ];
  const timescale = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
  if ((timescale.rowCount ?? 0) > 0) {
    statements.push(`SELECT create_hypertable('${table.replace(/'/g, "''")}', 'ts', if_not_exists => TRUE, migrate_data => TRUE)`);
  } else {
    statements.push(`CREATE INDEX IF NOT EXISTS ${indexName(name)} ON ${table} (ts)`);
  }
  return statements;
}

/** What logs and status may show: the URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}
