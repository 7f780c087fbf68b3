// `ampio-bridge capture recover`: the way forward from a damaged capture store. The damaged
// file is moved aside (kept, never changed), what SQLite and the pages still hold is copied
// into a new store at the same path, and the bridge takes it up on `systemctl reload`.
import { chmodSync, chownSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { salvage } from '../../capture/salvage.js';
import { loadSqlite } from '../../capture/sqlite-binding.js';
import { CaptureStore } from '../../capture/sqlite-store.js';
import { type CliContext, EXIT } from '../context.js';

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export async function recover(path: string, ctx: CliContext, now: () => number = Date.now): Promise<number> {
  const say = (text: string): void => void ctx.stdout.write(`${text}\n`);
  if (!existsSync(path)) {
    ctx.stderr.write(`ampio-bridge capture recover: no capture store at ${path}: nothing to recover\n`);
    return EXIT.failure;
  }
  const Database = await loadSqlite();
  try {
    CaptureStore.open(Database, { path, readonly: true, check: true }).close();
    say(`${path}: every page checked, the store is not damaged; nothing to do`);
    return EXIT.ok;
  } catch (err) {
    const e = err as Error & { code?: string; hint?: string };
    if (e.code !== 'corrupt') {
      ctx.stderr.write(`ampio-bridge capture recover: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ''}`);
      return EXIT.failure;
    }
    say(`${e.message}`);
  }
  const owner = statSync(path);
  const aside = `${path}.damaged-${stamp(now())}`;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  say(`moved the damaged store to ${aside}`);
  const building = `${path}.recovering`;
  let report: ReturnType<typeof salvage>;
  try {
    report = salvage(Database, aside, building, now);
  } catch (err) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(building + suffix, { force: true });
    ctx.stderr.write(
      `ampio-bridge capture recover: salvaging failed: ${(err as Error).message}\n  → the damaged store is kept at ${aside}; the bridge starts a new store at ${path} on: sudo systemctl reload ampio-bridge\n`,
    );
    return EXIT.failure;
  }
  // Root runs this for a service user: the new store belongs to whoever owned the old one.
  if (process.getuid?.() === 0) chownSync(building, owner.uid, owner.gid);
  chmodSync(building, owner.mode & 0o777);
  renameSync(building, path);
  const lost = report.lostRanges.map(([a, b]) => (b === null ? `${a}…` : a === b ? `${a}` : `${a}–${b}`));
  say(
    `salvaged ${report.frames.toLocaleString('en-US')} frames into a new store at ${path}${report.fromPages > 0 ? ` (${report.fromPages.toLocaleString('en-US')} of them read from pages SQLite could no longer reach)` : ''}`,
  );
  if (report.rebuiltSchema) say('the header and schema page were rebuilt from a fresh store');
  if (lost.length > 0)
    say(`rows SQLite could not read (old row numbers): ${lost.slice(0, 10).join(', ')}${lost.length > 10 ? ` and ${lost.length - 10} more ranges` : ''}`);
  for (const note of report.notes) say(`note: ${note}`);
  say(`next: sudo systemctl reload ampio-bridge   (capture resumes into the new store; delete ${aside} once you no longer need it)`);
  return EXIT.ok;
}
