// A throwaway PostgreSQL cluster for tests: initdb in a temp dir, started with pg_ctl on a
// free loopback port (about 3 s), stopped by pg_ctl and removed at the end. Runs as the
// `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export interface PgCluster {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres (no password: pass it as PGPASSWORD). */
  url: string;
  password: string;
  /** Runs SQL with psql; returns the unaligned, tuples-only output. */
  psql(sql: string): string;
  start(): void;
  /** A crash: pg_ctl stop -m immediate (no shutdown checkpoint, connections cut). */
  crash(): void;
  /** Stops the cluster and deletes its files. */
  destroy(): void;
}

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)');
  versions.sort((a, b) => Number(b) - Number(a));
  return path.join(base, versions[0], 'bin');
}

export async function startPostgres(password = 'capture-test-secret'): Promise<PgCluster> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, `${password}\n`);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, gid);
    fs.chownSync(pwfile, uid, gid);
  }
  const run = (file: string, args: string[]): string =>
    execFileSync(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  run(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const pgctl = (args: string[]): string => run(path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const start = (): void => void pgctl(['-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  start();
  let running = true;
  return {
    port,
    password,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    psql: (sql) =>
      run(path.join(bin, 'psql'), [
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-X',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ]).trim(),
    start: () => {
      start();
      running = true;
    },
    crash: () => {
      pgctl(['-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    destroy: () => {
      if (running) {
        try {
          pgctl(['-m', 'fast', '-w', 'stop']);
        } catch {
          // already gone
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
