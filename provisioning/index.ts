// `ampio-bridge setup`: probe → ask → plan → show → apply → verify (issue 6). The CLI shim
// (src/cli/commands/setup.ts) imports this lazily, so `serve` never loads any of it. Every
// system access comes through SetupDeps, which is how the tests run the whole command
// against a temp root with a recording runner, and how --dry-run runs with a file system
// and runner that refuse every change.

import { hostname } from 'node:os';
import * as path from 'node:path';
import { applyPlan, ProvisioningError } from './apply.js';
import { findBoard, loadCatalog, type Catalog } from './catalog.js';
import { defaultAnswers } from './defaults.js';
import { BUS_PORT, mergeAnswers, OFFERED } from './protocols.js';
import { OPTIONS } from '../src/config/options.js';
import { NodeFs, readOnlyFs } from './io/fs.js';
import { allowlistRunner, ExecaRunner, formatCommand, isReadOnlyCommand, throwingRunner } from './io/runner.js';
import { loadTemplates, packageDir, packageVersion } from './package-files.js';
import { planInstall, planUninstall } from './plan.js';
import { probe } from './probe.js';
import { Progress } from './progress.js';
import { rollback } from './rollback.js';
import { errorLines, markFor, paint, renderFacts, renderPlan, renderSummary, say, type Style, webUrl } from './show.js';
import { hashTokenSync, newToken } from '../src/config/options.js';
import { doRollback } from './run-rollback.js';
import { PATHS, type Answers, type Facts, type Plan, type SetupFlags } from './types.js';
import { waitReady as realWaitReady } from './verify.js';

// The two shapes run-rollback.ts shares with this file live in setup-deps.ts (no circle).
export type { SetupContext, SetupDeps } from './setup-deps.js';
import type { SetupContext, SetupDeps } from './setup-deps.js';

const EXIT = { ok: 0, failure: 1, usage: 2, cancelled: 130 } as const;

/** Answers `--yes` cannot default sensibly: the hardware-specific ones. */
export function missingRequired(a: Answers, given: Partial<Answers>, facts: Facts, catalog: Catalog): string[] {
  const missing: string[] = [];
  if (
    a.backend === 'serial' &&
    given.serial === undefined &&
    facts.serialDevices.length === 0 &&
    !facts.existing.config?.serial &&
    !facts.goServer?.env.CAN_SERVER_SERIAL
  ) {
    missing.push('--serial PATH (no adapter found in /dev/serial/by-id)');
  }
  const board = findBoard(catalog, a.board);
  if (a.backend === 'socketcan' && board?.params) {
    if (board.params.oscillator && a.oscillator === undefined) missing.push('--oscillator HZ (the crystal on the board)');
    if (board.params.interrupt && a.interrupt === undefined) missing.push('--interrupt GPIO (wired to the MCP2515 INT pin)');
  }
  return missing;
}

/**
 * Where clients connect. Pi OS answers mDNS for <hostname>.local out of the box
 * (avahi-daemon). For an image (--root) that is the image's hostname, never the machine
 * building it; an image without one gets whatever name the Pi is given at first boot.
 */
export function listenSummary(a: Answers, facts: Pick<Facts, 'root' | 'hostname'>, listen = a.listen, perBus = true): string[] {
  let addr = listen.trim();
  if (/^\d+$/.test(addr)) addr = `:${addr}`;
  const i = addr.lastIndexOf(':');
  const name = facts.hostname ?? (facts.root ? null : hostname());
  const host = addr.slice(0, i) || (name ? `${name}.local` : "<the Pi's hostname>.local");
  const port = Number(addr.slice(i + 1));
  if (a.backend === 'serial' || !perBus) return [`${host}:${port}`];
  return a.interfaces.map((n, k) => `${host}:${port + k} (${n})`);
}

/** What setup says at the end: where each protocol's clients connect (its plug-in's words). */
export function connectLines(a: Answers, facts: Pick<Facts, 'root' | 'hostname'>): string[] {
  const lines = [BUS_PORT.question.connectLine(listenSummary(a, facts).join(', '))];
  for (const p of OFFERED) {
    const listen = (a.listeners[p.option] ?? '').trim();
    if (listen !== '') lines.push(p.question.connectLine(listenSummary(a, facts, listen, OPTIONS[p.option].listener?.perBus === true).join(', ')));
  }
  return lines;
}

async function defaultElevate(args: string[]): Promise<number> {
  const { execa } = await import('execa');
  const main = path.join(packageDir(), 'dist/src/cli/main.js');
  const r = await execa('sudo', ['--', process.execPath, main, 'setup', ...args], { stdio: 'inherit', reject: false });
  return r.exitCode ?? 1;
}

/** Runs setup with flags the CLI has read (src/cli/commands/setup.ts). */
export async function runSetup(flags: SetupFlags, ctx: SetupContext, deps: SetupDeps = {}): Promise<number> {
  const style: Style = { color: flags.color ?? (ctx.isTTY && !ctx.env.NO_COLOR) };
  const interactive = ctx.isTTY && !flags.yes;

  // Setup changes files only root may change. Rather than failing, carry on under sudo, so
  // the quick start stays one command (`npm run setup` in a clone; Pi OS gives pi password-less sudo).
  if (!ctx.isRoot && !flags.dryRun && flags.root === null) {
    if (!deps.elevate && !ctx.isTTY && !flags.yes) {
      say(
        ctx.stderr,
        errorLines(style, {
          message: 'setup changes system files and needs root',
          hint: 'run it with sudo (`sudo ampio-bridge setup`, or `npm run setup` in a clone, which asks for it), or add --dry-run to only see the plan',
        }),
      );
      return EXIT.failure;
    }
    say(ctx.stdout, `${markFor(style, 'info')} setup changes system files: continuing with sudo`);
    return (deps.elevate ?? defaultElevate)(flags.args);
  }

  const version = deps.version ?? packageVersion();
  const root = flags.root;
  const baseFs = deps.fs ?? new NodeFs(root ?? '/');
  const fs = flags.dryRun ? readOnlyFs(baseFs) : baseFs;
  const liveRunner = deps.runner ?? new ExecaRunner();
  const runner = flags.dryRun ? throwingRunner : liveRunner;
  const probeRunner = deps.probeRunner ?? (flags.dryRun ? allowlistRunner(liveRunner, isReadOnlyCommand) : liveRunner);
  const now = deps.now ?? (() => new Date());

  say(ctx.stdout, paint(style, 'bold', `ampio-bridge setup ${version}${flags.dryRun ? ' (dry run: nothing will be changed)' : ''}`));

  try {
    if (flags.mode === 'rollback') return await doRollback(ctx, style, flags, { fs, runner, now, interactive, deps });

    const catalog = deps.catalog ?? (await loadCatalog());
    const templates = deps.templates ?? loadTemplates();
    const nodePath = flags.node ?? deps.nodePath ?? process.execPath;
    const facts = await probe({
      fs,
      runner: probeRunner,
      root,
      hostname: hostname(),
      nodePath,
      runningMain: deps.runningMain ?? path.join(packageDir(), 'dist/src/cli/main.js'),
      env: ctx.env,
    });
    say(ctx.stdout, `\n${renderFacts(facts, style)}\n\n`);

    let plan: Plan;
    let answers: Answers | null = null;
    let webToken: string | null = null;
    if (flags.mode === 'uninstall') {
      plan = planUninstall(facts);
    } else {
      const defaults = defaultAnswers(facts, catalog);
      answers = mergeAnswers(defaults, flags.answers);
      // A dry run asks too (when there is a terminal): the plan is for the answers given.
      if (!flags.yes && (ctx.isTTY || !flags.dryRun)) {
        if (!ctx.isTTY) {
          say(
            ctx.stderr,
            errorLines(style, {
              message: 'no terminal to ask questions on',
              hint: 'pass --yes (with flags for anything the defaults get wrong), or run setup in a terminal',
            }),
          );
          return EXIT.usage;
        }
        const asker = deps.asker ?? (await (await import('./wizard.js')).inquirerAsker({ input: ctx.stdin, output: ctx.stdout }));
        const { askAnswers } = await import('./wizard.js');
        answers = await askAnswers(asker, facts, catalog, defaults, flags.answers, (line) => say(ctx.stdout, `${markFor(style, 'warn')} ${line}\n`));
      } else {
        const missing = missingRequired(answers, flags.answers, facts, catalog);
        if (missing.length) {
          say(
            ctx.stderr,
            errorLines(style, {
              message: `--yes cannot guess: ${missing.join('; ')}`,
              hint: `add ${missing.map((m) => m.split(' ')[0]).join(' and ')} to the command`,
            }),
          );
          return EXIT.usage;
        }
      }
      if (answers.mqttUrl && !flags.dryRun && deps.testMqtt) {
        const problem = await deps.testMqtt(answers.mqttUrl);
        if (problem) {
          say(
            ctx.stderr,
            errorLines(style, {
              message: `the MQTT broker did not accept the bridge: ${problem}`,
              hint: 'nothing was written; fix the URL (or the broker), or leave MQTT off with --mqtt-url ""',
            }),
          );
          return EXIT.failure;
        }
      }
      if (answers.httpToken === 'new' && answers.httpListen.trim() !== '') {
        // Made here, shown once at the end; only its hash goes into config.json.
        webToken = newToken();
        answers = { ...answers, httpTokenHash: hashTokenSync(webToken) };
      }
      plan = planInstall({ facts, answers, env: { version, nodePath, live: root === null }, catalog, templates });
    }

    say(ctx.stdout, renderPlan(plan, style));
    if (plan.notices.some((n) => n.level === 'error')) {
      say(ctx.stderr, `\n${markFor(style, 'fail')} setup stopped before changing anything: fix the problems marked [✗] above.`);
      return EXIT.failure;
    }
    if (flags.dryRun) {
      say(ctx.stdout, `\n${markFor(style, 'info')} Dry run: nothing was changed. Run without --dry-run to apply.`);
      return EXIT.ok;
    }
    if (plan.steps.length === 0) {
      if (plan.deferred.length) say(ctx.stdout, `${markFor(style, 'info')} Run the commands above on the target.`);
      return EXIT.ok;
    }
    if (interactive) {
      const asker = deps.asker ?? (await (await import('./wizard.js')).inquirerAsker({ input: ctx.stdin, output: ctx.stdout }));
      const go = await asker.confirm(
        `Apply ${plan.steps.length} change${plan.steps.length === 1 ? '' : 's'}${plan.needsReboot ? ' (a reboot follows)' : ''}?`,
        true,
      );
      if (!go) {
        say(ctx.stdout, `${markFor(style, 'info')} Nothing was changed.`);
        return EXIT.ok;
      }
    }

    say(ctx.stdout, '');
    const progress = new Progress(ctx.stdout, ctx.isTTY, style);
    const result = await applyPlan(plan, {
      fs,
      runner,
      now,
      version,
      action: flags.mode === 'uninstall' ? 'uninstall' : 'install',
      onStart: (s, i, n) => progress.start(s, i, n),
      onDone: () => progress.done(),
      onFail: () => progress.fail(),
    });
    if (!result.ok && result.failed) {
      say(ctx.stderr, errorLines(style, result.failed.error));
      say(ctx.stderr, `    Files changed so far are backed up in ${result.backupDir}.`);
      let rolled = false;
      if (interactive) {
        const asker = deps.asker ?? (await (await import('./wizard.js')).inquirerAsker({ input: ctx.stdin, output: ctx.stdout }));
        if (await asker.confirm('Roll back the changes made so far?', true)) {
          const r = await rollback({ fs, runner, now, live: root === null }, result.backupDir ?? undefined);
          say(ctx.stdout, `${markFor(style, 'ok')} Rolled back: ${r.restored.length} restored, ${r.removed.length} removed.`);
          rolled = true;
        }
      }
      if (!rolled) say(ctx.stderr, `    Undo with: sudo ampio-bridge setup --rollback${root ? ` --root ${root}` : ''}`);
      return EXIT.failure;
    }

    let status: string | null = null;
    if (flags.mode === 'install' && answers && root === null && plan.steps.some((s) => s.id === 'restart')) {
      const wait = deps.waitReady ?? realWaitReady;
      const r = await wait({ metricsAddr: answers.httpListen.trim() || answers.metricsAddr, controlSocket: PATHS.controlSocket, timeoutMs: 20_000 });
      if (r.ready) status = `ampio-bridge is ready (${r.via})`;
      else
        say(
          ctx.stderr,
          `${markFor(style, 'warn')} ampio-bridge did not report ready within 20 s (${r.via}: ${r.detail}); see \`journalctl -u ampio-bridge -e\` and \`ampio-bridge doctor\`.`,
        );
    }

    let rebooting = false;
    if (plan.needsReboot && root === null) {
      if (flags.reboot === 'now') rebooting = true;
      else if (flags.reboot === 'ask' && interactive) {
        const asker = deps.asker ?? (await (await import('./wizard.js')).inquirerAsker({ input: ctx.stdin, output: ctx.stdout }));
        rebooting = await asker.confirm('Reboot now to load the CAN overlays?', false);
      }
    }
    say(
      ctx.stdout,
      renderSummary(
        {
          files: plan.steps.flatMap((s) => (s.kind === 'command' ? [] : [s.kind === 'remove' ? `${s.path} (removed; copy in the backup)` : s.path])),
          commands: plan.steps.filter((s) => s.kind === 'command').length,
          backupDir: result.backupDir,
          needsReboot: plan.needsReboot,
          rebooting,
          root,
          interfaces: answers?.backend === 'socketcan' ? answers.interfaces : [],
          connect: answers ? connectLines(answers, facts) : [],
          capture: answers?.capture.trim() ? answers.capture.trim() : null,
          metricsAddr: answers?.metricsAddr ?? '',
          web: answers?.httpListen.trim() ? webUrl(answers.httpListen.trim(), facts.hostname ?? (facts.root ? 'raspberrypi' : hostname()), answers.mdns) : null,
          webToken,
          status,
        },
        style,
      ),
    );
    if (plan.deferred.length) {
      say(ctx.stdout, `\n${markFor(style, 'info')} On the target, run:\n${plan.deferred.map((s) => `  ${formatCommand(s.argv)}`).join('\n')}`);
    }
    if (rebooting) await runner.run(['systemctl', 'reboot']);
    return EXIT.ok;
  } catch (err) {
    const e = err as Error & { code?: string; hint?: string };
    if (e.code === 'SETUP_CANCELLED') {
      say(ctx.stderr, `\n${markFor(style, 'info')} Cancelled: nothing was changed.`);
      return EXIT.cancelled;
    }
    if (e instanceof ProvisioningError || (e.code && e.hint)) {
      say(ctx.stderr, errorLines(style, e as { message: string; hint?: string }));
      return EXIT.failure;
    }
    throw err;
  }
}
