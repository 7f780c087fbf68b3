// plan: (facts, answers) → ordered steps, each a file change (before/after) or an exact
// command, with needsReboot. Pure: no I/O, no clock, so every plan is a golden-file test
// and `--dry-run` is just "print the plan".
//
// Idempotence lives here: a file whose new text equals the old one yields no step, and a
// command is planned only when the facts say it is needed (user missing, unit not enabled,
// service not running …). Same answers twice → an empty plan → "nothing to change".

import * as path from 'node:path';
import { OPTIONS } from '../src/config/options.js';
import { boardLines, findBoard, lintOverlayLines, type Catalog } from './catalog.js';
import type { Templates } from './package-files.js';
import { analyzeBootConfig, effectiveBootLines, removeBootBlock, renderBootConfig } from './steps/boot-config.js';
import { AnswerError, answerEntries, buildConfigStore } from './steps/config-file.js';
import { renderEnvFile } from './steps/env-file.js';
import { LINK_TXQUEUELEN_MIN_SYSTEMD, renderLinkFile } from './steps/link-file.js';
import { isManualCanNetwork, renderNetworkFile, systemctl } from './steps/networkd.js';
import { renderNmConf } from './steps/network-manager.js';
import { LINK_ONESHOT_UNIT, renderLinkOneshot } from './steps/link-oneshot.js';
import { addToGroupCommand, useraddCommand, userdelCommand } from './steps/service-user.js';
import { renderUnit } from './steps/service-unit.js';
import { answerClashes, privilegedListener } from './protocols.js';
import { isManualQueueRule, renderUdevRule } from './steps/udev-rule.js';
import { planRcvbufSysctl } from './steps/rcvbuf-sysctl.js';
import { serializeConfig } from './io/fs.js';
import { migrateGoEnv } from './migrate.js';
import { Builder, planPackageInstall } from './plan-builder.js';
import { PATHS, SERVICE, SERVICE_USER, type Answers, type Environment, type Facts, type Plan } from './types.js';

export interface PlanInput {
  facts: Facts;
  answers: Answers;
  env: Environment;
  catalog: Catalog;
  templates: Templates;
}

/** Checks answers with the daemon's own parsers; every problem at once. */
export function validateAnswers(a: Answers, catalog: Catalog): AnswerError[] {
  const errs: AnswerError[] = [];
  const check = (flag: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      errs.push(err instanceof AnswerError ? err : new AnswerError(`--${flag}: ${(err as Error).message}`, ''));
    }
  };
  // The answers that are serve settings: exactly what config.json will hold, parsed as serve will.
  for (const [name, raw] of answerEntries(a)) check(OPTIONS[name].flag, () => OPTIONS[name].parse(raw));
  // Listeners on one socket: serve would refuse to start, so setup refuses the answers.
  for (const clash of answerClashes(a)) {
    const [what, fix] = clash.split('; ');
    errs.push(new AnswerError(what, fix));
  }
  if (!Number.isInteger(a.txqueuelen) || a.txqueuelen < 1 || a.txqueuelen > 100_000)
    errs.push(
      new AnswerError(
        `--txqueuelen ${a.txqueuelen}: must be 1..100000`,
        'use 100 (about 0.3 s of frames at 50 kbit/s: no ENOBUFS on a burst, no stale replays)',
      ),
    );
  if (!Number.isInteger(a.restartMs) || a.restartMs < 0 || a.restartMs > 60_000)
    errs.push(new AnswerError(`--restart-ms ${a.restartMs}: must be 0..60000`, 'use 100'));
  if (a.backend === 'socketcan') {
    const board = findBoard(catalog, a.board);
    if (!board) errs.push(new AnswerError(`--hat ${a.board}: unknown board`, `one of: ${catalog.boards.map((b) => b.id).join(', ')}`));
    if (board) {
      const offered = board.interfaces.map((i) => i.name);
      const extra = a.interfaces.filter((n) => !offered.includes(n));
      if (extra.length)
        errs.push(new AnswerError(`--can-if ${a.interfaces.join(',')}: ${board.name} has ${offered.join(' and ')} only`, `use --can-if ${offered.join(',')}`));
      if (board.params?.oscillator && a.oscillator !== undefined && (a.oscillator < 1_000_000 || a.oscillator > 40_000_000)) {
        errs.push(new AnswerError(`--oscillator ${a.oscillator}: not a crystal frequency in Hz`, 'e.g. --oscillator 16000000 for a 16.000 MHz crystal'));
      }
      if (board.params?.interrupt && a.interrupt !== undefined && (a.interrupt < 0 || a.interrupt > 27)) {
        errs.push(new AnswerError(`--interrupt ${a.interrupt}: not a Raspberry Pi GPIO (0..27)`, 'the BCM GPIO number wired to the MCP2515 INT pin'));
      }
    }
  }
  return errs;
}

/** ExecStart's script: the running one when it stays put, else the global install. */
export function mainJsFor(facts: Facts): string {
  return facts.install.ephemeral ? path.posix.join(facts.install.globalPrefix, 'lib/node_modules/ampio-bridge/dist/src/cli/main.js') : facts.install.running;
}

export function planInstall(input: PlanInput): Plan {
  const { facts, answers: a, env, catalog, templates } = input;
  const b = new Builder(facts);
  const root = facts.root;
  const v = env.version;

  for (const e of validateAnswers(a, catalog)) b.notice('error', e.message, e.hint);
  if (facts.node.problem)
    b.notice('error', facts.node.problem, 'install Node.js system-wide (sudo apt install nodejs) and re-run with it, or pass --node /usr/bin/node');
  if (facts.existing.configProblem) b.notice('warn', facts.existing.configProblem);
  // ProtectSystem=strict leaves the service only its StateDirectory= to write: elsewhere the
  // store cannot open (unless someone added ReadWritePaths= in a drop-in, hence only a warning).
  if (a.capture.trim() !== '' && !a.capture.trim().startsWith('/var/lib/ampio-bridge/')) {
    b.notice(
      'warn',
      `--capture ${a.capture.trim()}: the service may write only under /var/lib/ampio-bridge/, so it cannot open this store`,
      'use --capture /var/lib/ampio-bridge/capture.db (or add ReadWritePaths= in a drop-in for the unit)',
    );
  }
  if (b.notices.some((n) => n.level === 'error')) return b.plan();

  const mainJs = mainJsFor(facts);

  // 1. A permanent copy of ourselves (see planPackageInstall).
  planPackageInstall(b, facts, v);
  if (b.notices.some((n) => n.level === 'error')) return b.plan();

  // 2. Boot config: the HAT overlays.
  let bootChanged = false;
  if (a.backend === 'socketcan') {
    const board = findBoard(catalog, a.board);
    if (!board) return b.plan();
    if (!board.verified)
      b.notice(
        'warn',
        `The config.txt lines for ${board.name} come from user reports and are not verified.`,
        `after the reboot, \`ampio-bridge doctor\` shows whether each chip initialised; ${board.notes}`,
      );
    if (!facts.boot.path || !facts.boot.realPath) {
      b.notice('error', facts.boot.problem ?? 'no usable config.txt', 'mount the boot partition (or pass --root pointing at an image) and re-run setup');
      return b.plan();
    }
    const before = facts.files[facts.boot.realPath] ?? facts.boot.content ?? '';
    const lines = boardLines(board, { oscillator: a.oscillator, interrupt: a.interrupt });
    for (const p of lintOverlayLines(lines)) b.notice('error', p);
    const analysis = analyzeBootConfig(before);
    for (const r of analysis.remarks)
      if (!analysis.conflicting.includes(r.line)) b.notice('warn', `config.txt line ${r.line.index + 1} "${r.line.text.trim()}": ${r.text}`);
    if (analysis.conflicting.length) {
      b.notice(
        'info',
        `config.txt has CAN overlay lines outside our block (an earlier manual setup); they will be commented out so the chips are not loaded twice: ${analysis.conflicting.map((l) => `"${l.text.trim()}"`).join(', ')}`,
      );
    }
    const after = renderBootConfig(before, { version: v, boardId: board.id, boardName: board.name, verified: board.verified, lines });
    const bootReboot = effectiveBootLines(before).join('\n') !== effectiveBootLines(after).join('\n');
    const where = facts.boot.realPath === facts.boot.path ? facts.boot.path : `${facts.boot.path} → ${facts.boot.realPath}`;
    bootChanged = b.write('boot-config', `Boot config ${where}: ${board.name} overlays under [all]`, facts.boot.realPath, after, {
      mode: facts.modes[facts.boot.realPath] ?? 0o755,
      needsReboot: bootReboot,
      why: 'the kernel only creates can0/can1 when these overlays load at boot',
    });

    // 3. Retire the go-ampio-server guide's hand-made files (moved into the backup set).
    const manualNet = facts.files[PATHS.manualNetwork];
    if (manualNet && isManualCanNetwork(manualNet, a.interfaces)) {
      b.remove(
        'retire-manual-network',
        `Retire hand-made ${PATHS.manualNetwork}`,
        PATHS.manualNetwork,
        'it configures the same CAN links (without restart-ms); kept in the backup set',
      );
    }
    const manualRule = facts.files[PATHS.manualUdevRule];
    if (manualRule && isManualQueueRule(manualRule)) {
      b.remove(
        'retire-manual-udev',
        `Retire hand-made ${PATHS.manualUdevRule}`,
        PATHS.manualUdevRule,
        'it sets txqueuelen 1000, which replays seconds of stale commands after an outage; kept in the backup set',
      );
    }

    // 4. Link settings that survive a reboot: systemd-networkd where it is (or apt can install
    // it now), else a oneshot unit running `ip link` at boot. Probed here, at plan time, so
    // setup never stops half-way with advice for a system it is not on.
    const ifs = a.interfaces;
    const nd = facts.linkManagers.networkd;
    const installNetworkd = !nd.installed && facts.apt && root === null;
    const useNetworkd = nd.installed || installNetworkd;
    let netChanged = false;
    let qChanged = false;
    if (installNetworkd) {
      b.command('install-networkd', 'Install systemd-networkd (apt)', ['apt-get', 'install', '--yes', '--no-install-recommends', 'systemd-networkd'], {
        live: true,
        why: 'it keeps the CAN bitrate, restart-ms and txqueuelen across reboots; this system does not have it installed',
      });
    }
    if (useNetworkd) {
      netChanged = b.write(
        'network',
        `systemd-networkd: ${ifs.join(', ')} at ${a.bitrate} bit/s, restart-ms ${a.restartMs}`,
        PATHS.network,
        renderNetworkFile(templates, { version: v, interfaces: ifs, bitrate: a.bitrate, restartMs: a.restartMs }),
      );
      const useLink = facts.systemdVersion === null || facts.systemdVersion >= LINK_TXQUEUELEN_MIN_SYSTEMD;
      if (useLink) {
        qChanged = b.write(
          'link',
          `txqueuelen ${a.txqueuelen} for ${ifs.join(', ')} (.link file)`,
          PATHS.link,
          renderLinkFile(templates, { version: v, interfaces: ifs, txqueuelen: a.txqueuelen }),
        );
        b.remove('remove-udev-rule', `Remove ${PATHS.udevRule} (the .link file replaces it)`, PATHS.udevRule);
      } else {
        b.notice(
          'info',
          `systemd ${facts.systemdVersion} is older than ${LINK_TXQUEUELEN_MIN_SYSTEMD}: txqueuelen goes in a udev rule instead of a .link file (linux-can/can-utils#470)`,
        );
        qChanged = b.write(
          'udev-rule',
          `txqueuelen ${a.txqueuelen} for ${ifs.join(', ')} (udev rule)`,
          PATHS.udevRule,
          renderUdevRule(templates, { version: v, interfaces: ifs, txqueuelen: a.txqueuelen }),
        );
        b.remove('remove-link', `Remove ${PATHS.link} (systemd ${facts.systemdVersion} ignores it)`, PATHS.link);
      }
    } else {
      b.notice(
        'info',
        `systemd-networkd is not installed${root ? ' in this image' : ''}${facts.apt ? (root ? ' (apt cannot install it offline)' : '') : ' and there is no apt to install it'}: a oneshot unit (${LINK_ONESHOT_UNIT}) sets bitrate, restart-ms and txqueuelen with \`ip link\` at boot instead`,
        root && facts.apt ? 'to use networkd later: `sudo apt-get install systemd-networkd` on the Pi, then re-run `sudo ampio-bridge setup`' : undefined,
      );
      qChanged = b.write(
        'link-oneshot',
        `Boot-time link settings ${PATHS.linkSetupUnit}: ${ifs.join(', ')} at ${a.bitrate} bit/s, restart-ms ${a.restartMs}, txqueuelen ${a.txqueuelen}`,
        PATHS.linkSetupUnit,
        renderLinkOneshot({ version: v, interfaces: ifs, bitrate: a.bitrate, restartMs: a.restartMs, txqueuelen: a.txqueuelen, ipPath: facts.ipPath }),
        { mode: 0o644 },
      );
      if (!facts.existing.linkOneshotEnabled)
        b.command('enable-link-oneshot', `Enable ${LINK_ONESHOT_UNIT} at boot`, systemctl(root, 'enable', LINK_ONESHOT_UNIT), {
          undo: systemctl(root, 'disable', LINK_ONESHOT_UNIT),
        });
    }
    if (facts.linkManagers.networkManager.installed) {
      b.write('network-manager', `Keep NetworkManager off ${ifs.join(', ')}`, PATHS.nmConf, renderNmConf(templates, { version: v, interfaces: ifs }));
    }
    if (facts.linkManagers.ifupdown.canStanzas) {
      b.notice(
        'warn',
        '/etc/network/interfaces has CAN stanzas: ifupdown would configure the same links (and is silently ignored when not installed)',
        'remove the can0/can1 stanzas from /etc/network/interfaces',
      );
    }
    if (useNetworkd && !nd.enabled) {
      if (root)
        b.command('enable-networkd', 'Enable systemd-networkd', systemctl(root, 'enable', 'systemd-networkd.service'), {
          undo: systemctl(root, 'disable', 'systemd-networkd.service'),
        });
      else
        b.command('enable-networkd', 'Enable and start systemd-networkd', ['systemctl', 'enable', '--now', 'systemd-networkd.service'], {
          undo: ['systemctl', 'disable', '--now', 'systemd-networkd.service'],
        });
      if (facts.linkManagers.networkManager.enabled) {
        b.command(
          'disable-networkd-wait-online',
          'Disable systemd-networkd-wait-online (NetworkManager has its own)',
          systemctl(root, 'disable', 'systemd-networkd-wait-online.service'),
          {
            why: 'networkd manages only the CAN links here (RequiredForOnline=no), so its wait-online would stall boot until its timeout',
            undo: systemctl(root, 'enable', 'systemd-networkd-wait-online.service'),
          },
        );
      }
    }
    // Settings apply now too when the interfaces already exist and no reboot is pending.
    const reboot = b.steps.some((s) => s.needsReboot);
    if (!reboot && facts.canLinks) {
      const todo = facts.canLinks.filter((l) => ifs.includes(l.name) && (l.bitrate !== a.bitrate || l.restartMs !== a.restartMs || l.qlen !== a.txqueuelen));
      if (todo.length || ((netChanged || qChanged) && facts.canLinks.some((l) => ifs.includes(l.name)))) {
        if (useNetworkd) b.command('networkd-reload', 'Reload systemd-networkd', ['networkctl', 'reload'], { live: true });
        for (const l of facts.canLinks.filter((x) => ifs.includes(x.name))) {
          b.command(`link-${l.name}-down`, `Apply settings to ${l.name} now`, ['ip', 'link', 'set', l.name, 'down'], { live: true });
          b.command(
            `link-${l.name}-can`,
            `${l.name}: bitrate ${a.bitrate}, restart-ms ${a.restartMs}`,
            ['ip', 'link', 'set', l.name, 'type', 'can', 'bitrate', String(a.bitrate), 'restart-ms', String(a.restartMs)],
            { live: true },
          );
          b.command(`link-${l.name}-qlen`, `${l.name}: txqueuelen ${a.txqueuelen}`, ['ip', 'link', 'set', l.name, 'txqueuelen', String(a.txqueuelen)], {
            live: true,
          });
          b.command(`link-${l.name}-up`, `${l.name}: up`, ['ip', 'link', 'set', l.name, 'up'], { live: true });
        }
      }
    }
  } else {
    if (!a.serial.startsWith('/dev/serial/by-id/')) {
      b.notice(
        'warn',
        `${a.serial} can change name when the adapter is re-plugged`,
        facts.serialDevices.length ? `use the stable path: --serial ${facts.serialDevices[0]}` : 'use its /dev/serial/by-id/ path',
      );
    }
  }

  // 5. The service user.
  const groups = a.backend === 'serial' ? ['dialout'] : [];
  if (!facts.user.exists)
    b.command('service-user', `Create system user ${SERVICE_USER}${groups.length ? ` (groups: ${groups.join(', ')})` : ''}`, useraddCommand(root, groups), {
      undo: userdelCommand(root),
    });
  else
    for (const g of groups.filter((g) => !facts.user.groups.includes(g)))
      b.command(`service-user-${g}`, `Add ${SERVICE_USER} to ${g}`, addToGroupCommand(root, SERVICE_USER, g));
  if (facts.sudoUser && !facts.user.sudoUserGroups.includes(SERVICE_USER)) {
    b.command(
      'operator-group',
      `Add ${facts.sudoUser} to group ${SERVICE_USER} (for \`ampio-bridge top\` without sudo)`,
      addToGroupCommand(null, facts.sudoUser, SERVICE_USER),
      {
        live: true,
        why: 'the control socket is 0660 ampio-bridge; takes effect at the next login',
      },
    );
  }

  // 6. Config, env file, unit.
  const migration = facts.goServer && a.migrate ? migrateGoEnv(facts.goServer.env) : null;
  if (migration?.skipped.length) b.notice('info', `Not migrated from ${PATHS.goDefaults}: ${migration.skipped.join('; ')}`);
  const store = buildConfigStore(a, facts.existing.config, migration?.values ?? {});
  if (
    String(store.allow ?? '')
      .trim()
      .toLowerCase() === 'any'
  ) {
    b.notice(
      'warn',
      `allow = any: every address that reaches port ${a.listen.split(':').pop()} can drive the bus (switch lights, open blinds, disarm the alarm); none of the protocols has a password`,
      'keep the default (local network only), or put the Pi behind a firewall/VPN (WireGuard, an SSH tunnel)',
    );
  }
  // With a secret in it (the web page's write-token hash, a password in the MQTT or PostgreSQL
  // URL), the file is for root and the service's group only (0640, group ampio-bridge: the
  // service reads it, other users do not).
  const secret = holdsSecret(store);
  const configChanged = b.write('config', `Daemon config ${PATHS.configFile}`, PATHS.configFile, serializeConfig(store), {
    via: 'conf',
    store,
    mode: secret ? 0o640 : 0o644,
  });
  if (secret && configChanged)
    b.command('config-group', `Let the service's group read ${PATHS.configFile} (it holds a secret)`, ['chgrp', 'ampio-bridge', PATHS.configFile], {
      live: true,
    });
  const envChanged =
    facts.files[PATHS.envFile] === null || facts.files[PATHS.envFile] === undefined
      ? b.write('env-file', `Environment overrides file ${PATHS.envFile} (comments only)`, PATHS.envFile, renderEnvFile(templates, { version: v }), {
          mode: 0o644,
        })
      : false;
  const unitChanged = b.write(
    'unit',
    `systemd unit ${PATHS.unit}`,
    PATHS.unit,
    renderUnit(templates, {
      version: v,
      nodePath: env.nodePath,
      mainJs,
      backend: a.backend,
      serialDevice: a.serial,
      serialResolved: facts.serialTargets[a.serial],
      privileged: privilegedListener(a),
    }),
    { mode: 0o644 },
  );
  const ceilingRaised = planRcvbufSysctl(b, facts, { backend: a.backend, version: v, templates, store });

  // 7. go-ampio-server hands over the bus and the port.
  let goStopped = false;
  if (facts.goServer && a.migrate && (facts.goServer.enabled || facts.goServer.active !== false)) {
    goStopped = true;
    if (root)
      b.command('disable-go', 'Disable can-server.service (go-ampio-server)', systemctl(root, 'disable', 'can-server.service'), {
        undo: systemctl(root, 'enable', 'can-server.service'),
      });
    else
      b.command(
        'disable-go',
        'Stop and disable can-server.service (go-ampio-server; its files stay)',
        ['systemctl', 'disable', '--now', 'can-server.service'],
        { undo: ['systemctl', 'enable', '--now', 'can-server.service'] },
      );
  } else if (facts.goServer && !a.migrate && facts.goServer.active !== false) {
    b.notice(
      'warn',
      'go-ampio-server (can-server.service) stays enabled: it will fight ampio-bridge for the bus and port 20000',
      'run setup with --migrate, or `sudo systemctl disable --now can-server.service`',
    );
  }

  // 8. systemd.
  if (unitChanged || goStopped) b.command('daemon-reload', 'Reload systemd', ['systemctl', 'daemon-reload'], { live: true });
  if (!facts.existing.unitEnabled)
    b.command('enable', `Enable ${SERVICE} at boot`, systemctl(root, 'enable', SERVICE), { undo: systemctl(root, 'disable', SERVICE) });
  const rebootNew = b.steps.some((s) => s.needsReboot);
  // Remember the pending reboot on tmpfs: a re-run before rebooting must not start the
  // service early or report work to do, and the reboot itself forgets it.
  if (rebootNew && !root)
    b.write(
      'reboot-marker',
      'Remember the pending reboot (in /run, which the reboot clears)',
      PATHS.rebootMarker,
      `ampio-bridge setup ${v}: config.txt changed; reboot to load the CAN overlays\n`,
      { mode: 0o644 },
    );
  else if (facts.rebootPending)
    b.notice('warn', 'A reboot is still pending from an earlier setup run: the CAN overlays are not loaded yet.', '`sudo reboot`, then `ampio-bridge doctor`');
  const rebootPending = rebootNew || facts.rebootPending;
  const installChanged = b.steps.some((s) => s.id === 'install-package');
  if (!rebootPending && (unitChanged || configChanged || envChanged || installChanged || ceilingRaised || facts.existing.active === false)) {
    b.command('restart', `${facts.existing.active ? 'Restart' : 'Start'} ${SERVICE}`, ['systemctl', 'restart', SERVICE], { live: true });
  }
  if (bootChanged && rebootPending) b.notice('info', `${SERVICE} starts on its own after the reboot.`);
  return b.plan();
}

export function planUninstall(facts: Facts): Plan {
  const b = new Builder(facts);
  const root = facts.root;
  const present = facts.existing.unitEnabled || facts.existing.active !== false;
  if (facts.files[PATHS.unit] !== null && present) {
    if (root) b.command('disable', `Disable ${SERVICE}`, systemctl(root, 'disable', SERVICE), { undo: systemctl(root, 'enable', SERVICE) });
    else b.command('disable', `Stop and disable ${SERVICE}`, ['systemctl', 'disable', '--now', SERVICE], { undo: ['systemctl', 'enable', '--now', SERVICE] });
  }
  if (facts.existing.linkOneshotEnabled)
    b.command('disable-link-oneshot', `Disable ${LINK_ONESHOT_UNIT}`, systemctl(root, 'disable', LINK_ONESHOT_UNIT), {
      undo: systemctl(root, 'enable', LINK_ONESHOT_UNIT),
    });
  const unitRemoved = b.remove('unit', `Remove ${PATHS.unit}`, PATHS.unit);
  for (const [id, p] of [
    ['config', PATHS.configFile],
    ['env-file', PATHS.envFile],
    ['network', PATHS.network],
    ['link', PATHS.link],
    ['udev-rule', PATHS.udevRule],
    ['network-manager', PATHS.nmConf],
    ['link-oneshot', PATHS.linkSetupUnit],
    ['rcvbuf-sysctl', PATHS.sysctlConf],
  ] as const) {
    b.remove(id, `Remove ${p}`, p);
  }
  if (facts.boot.realPath && facts.files[facts.boot.realPath]) {
    const before = facts.files[facts.boot.realPath] as string;
    const after = removeBootBlock(before);
    b.write('boot-config', `Boot config ${facts.boot.path}: remove the ampio-bridge block`, facts.boot.realPath, after, {
      mode: facts.modes[facts.boot.realPath] ?? 0o755,
      needsReboot: effectiveBootLines(before).join('\n') !== effectiveBootLines(after).join('\n'),
    });
  }
  if (unitRemoved) b.command('daemon-reload', 'Reload systemd', ['systemctl', 'daemon-reload'], { live: true });
  b.notice('info', `The ${SERVICE_USER} system user and the backups in ${PATHS.backupsDir} are kept; \`setup --rollback\` undoes this uninstall.`);
  if (facts.goServer && !facts.goServer.enabled)
    b.notice('info', 'go-ampio-server stays disabled; `sudo systemctl enable --now can-server.service` brings it back.');
  return b.plan();
}

/** Whether config.json would hold a secret: the web token's hash, or a URL with a password. */
export function holdsSecret(store: Record<string, unknown>): boolean {
  if (typeof store['http-token-hash'] === 'string' && store['http-token-hash'] !== '') return true;
  for (const key of ['mqtt-url', 'pg-url']) {
    const value = store[key];
    if (typeof value !== 'string' || value === '') continue;
    try {
      if (new URL(value).password !== '') return true;
    } catch {
      // not a URL (a libpq key=value string): a password= field is a secret too
      if (/\bpassword\s*=/.test(value)) return true;
    }
  }
  return false;
}
