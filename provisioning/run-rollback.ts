// `setup --rollback`: show the newest backup set not rolled back yet, confirm, undo it.

import type { Fs } from './io/fs.js';
import { formatCommand, type Runner } from './io/runner.js';
import type { SetupContext, SetupDeps } from './setup-deps.js';
import { rollback } from './rollback.js';
import { errorLines, markFor, say, type Style } from './show.js';
import { PATHS, type SetupFlags } from './types.js';

const EXIT = { ok: 0, failure: 1 } as const;

export async function doRollback(
  ctx: SetupContext,
  style: Style,
  flags: SetupFlags,
  o: { fs: Fs; runner: Runner; now: () => Date; interactive: boolean; deps: SetupDeps },
): Promise<number> {
  const { listBackups } = await import('./rollback.js');
  const sets = (await listBackups(o.fs)).filter((s) => !s.manifest.rolledBackAt);
  const set = sets[sets.length - 1];
  if (!set) {
    say(
      ctx.stderr,
      errorLines(style, {
        message: `no backup to roll back in ${PATHS.backupsDir}`,
        hint: 'setup has not changed anything here yet, or every run was rolled back already',
      }),
    );
    return EXIT.failure;
  }
  const m = set.manifest;
  say(ctx.stdout, `\nBackup ${set.dir} (${m.action} by ${m.version}, ${m.createdAt}, ${m.status}):`);
  for (const f of m.files) say(ctx.stdout, `  ${f.existed ? 'restore' : 'remove '} ${f.path}`);
  for (const c of [...m.commands].reverse()) if (c.undo) say(ctx.stdout, `  run     ${formatCommand(c.undo)}`);
  if (flags.dryRun) {
    say(ctx.stdout, `\n${markFor(style, 'info')} Dry run: nothing was changed.`);
    return EXIT.ok;
  }
  if (o.interactive) {
    const asker = o.deps.asker ?? (await (await import('./wizard.js')).inquirerAsker({ input: ctx.stdin, output: ctx.stdout }));
    if (!(await asker.confirm('Roll back?', true))) return EXIT.ok;
  }
  const r = await rollback({ fs: o.fs, runner: o.runner, now: o.now, live: flags.root === null }, set.dir);
  say(
    ctx.stdout,
    `${markFor(style, 'ok')} Rolled back ${set.dir}: ${r.restored.length} file(s) restored, ${r.removed.length} removed, ${r.undone.length} command(s) undone.`,
  );
  for (const w of r.warnings) say(ctx.stderr, `${markFor(style, 'warn')} ${w}`);
  if (r.deferred.length) say(ctx.stdout, `${markFor(style, 'info')} On the target, run: ${r.deferred.join('; ')}`);
  if (m.files.some((f) => f.path.endsWith('config.txt'))) say(ctx.stdout, `${markFor(style, 'warn')} config.txt was restored: reboot for it to take effect.`);
  return EXIT.ok;
}
