// Text for people: the facts, the plan with coloured diffs, progress lines and the closing
// summary (pi-hole style [✓]/[✗]/[i]/[!] lines). Pure string building; the caller writes.

import type { Writable } from 'node:stream';
import { unifiedDiff, type DiffLine } from './diff.js';
import { formatCommand } from './io/runner.js';
import type { Facts, Notice, Plan, Step } from './types.js';
import { PATHS, SERVICE } from './types.js';

export interface Style {
  color: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, dim: 2, bold: 1 } as const;
export function paint(style: Style, c: keyof typeof CODES, text: string): string {
  return style.color ? `\u001b[${CODES[c]}m${text}\u001b[0m` : text;
}

export const MARK = { ok: '[✓]', fail: '[✗]', info: '[i]', warn: '[!]' } as const;

export function markFor(style: Style, level: 'ok' | 'fail' | 'info' | 'warn' | 'error'): string {
  if (level === 'ok') return paint(style, 'green', MARK.ok);
  if (level === 'fail' || level === 'error') return paint(style, 'red', MARK.fail);
  if (level === 'warn') return paint(style, 'yellow', MARK.warn);
  return paint(style, 'cyan', MARK.info);
}

function row(style: Style, level: 'ok' | 'info' | 'warn' | 'error', label: string, value: string): string {
  return `  ${markFor(style, level)} ${label.padEnd(15)} ${value}`;
}

export function renderFacts(f: Facts, style: Style): string {
  const out: string[] = [paint(style, 'bold', 'This system')];
  if (f.root) out.push(row(style, 'info', 'Target', `${f.root} (--root: files only; live commands are listed, not run)`));
  out.push(row(style, 'info', 'Board', f.board ?? 'unknown (not a Pi, or an image)'));
  if (f.root) out.push(row(style, 'info', 'Hostname', f.hostname ?? "none set in the image (the Pi's own name at first boot)"));
  out.push(
    row(style, 'info', 'OS', f.os ? `${f.os.prettyName}${f.os.codename && !f.os.prettyName.includes(f.os.codename) ? ` (${f.os.codename})` : ''}` : 'unknown'),
  );
  out.push(
    f.boot.path
      ? row(style, 'info', 'Boot config', f.boot.realPath !== f.boot.path ? `${f.boot.path} → ${f.boot.realPath}` : f.boot.path)
      : row(style, 'warn', 'Boot config', f.boot.problem ?? 'not found'),
  );
  if (f.canLinks === null) out.push(row(style, 'info', 'CAN links', f.root ? 'not checked (--root)' : 'unknown (ip not available)'));
  else if (f.canLinks.length === 0) out.push(row(style, 'info', 'CAN links', 'none (the overlays create them at boot)'));
  else
    out.push(
      row(
        style,
        'info',
        'CAN links',
        f.canLinks.map((l) => `${l.name} ${l.state} ${l.bitrate ?? '?'} bit/s restart-ms ${l.restartMs ?? '?'} qlen ${l.qlen ?? '?'}`).join('; '),
      ),
    );
  const lm = f.linkManagers;
  const managers = [
    `systemd-networkd ${!lm.networkd.installed ? 'not installed' : lm.networkd.enabled ? 'enabled' : 'not enabled'}`,
    ...(lm.networkManager.installed ? [`NetworkManager ${lm.networkManager.enabled ? 'enabled' : 'installed'}`] : []),
    ...(lm.ifupdown.installed ? ['ifupdown installed'] : []),
  ];
  out.push(row(style, 'info', 'Links managed', managers.join(', ')));
  out.push(row(style, 'info', 'systemd', f.systemdVersion ? String(f.systemdVersion) : 'unknown'));
  out.push(row(style, f.node.problem ? 'error' : 'info', 'Node', f.node.path));
  out.push(row(style, 'info', 'Serial ports', f.serialDevices.length ? f.serialDevices.join(', ') : 'none in /dev/serial/by-id'));
  if (f.goServer) {
    const st = [f.goServer.enabled ? 'enabled' : 'disabled', f.goServer.active === null ? '' : f.goServer.active ? 'running' : 'stopped']
      .filter(Boolean)
      .join(', ');
    out.push(row(style, 'warn', 'go-ampio-server', `${f.goServer.unitPath} (${st})`));
  }
  const installed = f.files[PATHS.unit] !== null && f.files[PATHS.unit] !== undefined;
  out.push(
    row(
      style,
      'info',
      'ampio-bridge',
      installed
        ? `installed (${f.existing.unitEnabled ? 'enabled' : 'not enabled'}${f.existing.active === null ? '' : f.existing.active ? ', running' : ', stopped'})`
        : 'not installed yet',
    ),
  );
  return out.join('\n');
}

export function renderNotices(notices: Notice[], style: Style): string {
  return notices
    .map((n) => {
      const fix = n.fix ? `\n      ${paint(style, 'dim', 'fix:')} ${n.fix}` : '';
      return `  ${markFor(style, n.level)} ${n.text}${fix}`;
    })
    .join('\n');
}

function diffPainter(style: Style) {
  return (op: DiffLine['op'] | '@', text: string) => {
    if (op === '+') return paint(style, 'green', text);
    if (op === '-') return paint(style, 'red', text);
    if (op === '@') return paint(style, 'cyan', text);
    return text;
  };
}

export function renderStep(step: Step, n: number, style: Style): string {
  const tags = [step.needsReboot ? paint(style, 'yellow', '[reboot]') : '', step.kind === 'command' && step.live ? paint(style, 'dim', '[live]') : '']
    .filter(Boolean)
    .join(' ');
  const out = [`  ${String(n).padStart(2)}. ${step.title}${tags ? ` ${tags}` : ''}`];
  if (step.why) out.push(`      ${paint(style, 'dim', step.why)}`);
  if (step.kind === 'command') out.push(`      ${paint(style, 'dim', '$')} ${formatCommand(step.argv)}`);
  else {
    const diff = unifiedDiff(step.path, step.before, step.kind === 'write' ? step.after : null, diffPainter(style));
    out.push(
      diff
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n'),
    );
  }
  return out.join('\n');
}

export function renderPlan(plan: Plan, style: Style): string {
  const out: string[] = [];
  if (plan.notices.length) out.push(paint(style, 'bold', 'Notes'), renderNotices(plan.notices, style), '');
  // A blocked plan has no steps either: that is not "nothing to change" (the caller says why it stopped).
  if (plan.notices.some((n) => n.level === 'error')) return out.join('\n');
  if (plan.steps.length === 0 && plan.deferred.length === 0) {
    out.push(`${markFor(style, 'ok')} Nothing to change: the system already matches these answers.`);
    return out.join('\n');
  }
  const head = `Plan: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}${plan.needsReboot ? ', then a reboot' : ''}`;
  out.push(paint(style, 'bold', head));
  plan.steps.forEach((s, i) => {
    out.push(renderStep(s, i + 1, style));
  });
  if (plan.deferred.length) {
    out.push('', paint(style, 'bold', 'To run on the target system (--root cannot run these):'));
    for (const s of plan.deferred) out.push(`      $ ${formatCommand(s.argv)}`);
  }
  return out.join('\n');
}

export interface Summary {
  /** files written or removed */
  files: string[];
  commands: number;
  backupDir: string | null;
  needsReboot: boolean;
  rebooting: boolean;
  root: string | null;
  interfaces: string[];
  /** Where each protocol's clients connect, one line each (provisioning/index.ts connectLines). */
  connect: string[];
  /** The capture store's path, or null when off. */
  capture?: string | null;
  metricsAddr: string;
  /** The web page's URL, or null when off. */
  web?: string | null;
  /** A write token this run made: shown once, here. */
  webToken?: string | null;
  status: string | null;
}

/** The address people type for the web page: <host>.local (mDNS) on every interface, else the bound host. */
export function webUrl(listen: string, hostname: string, mdns: boolean): string {
  const m = /^(.*):(\d+)$/.exec(listen);
  const host = m ? m[1].replace(/^\[|\]$/g, '') : '';
  const port = m ? m[2] : '8080';
  const shown =
    host === '' || host === '0.0.0.0' || host === '::' ? (mdns ? `${hostname.split('.')[0]}.local` : hostname) : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}${port === '80' ? '' : `:${port}`}/`;
}

/** The explicit final step: what changed, backups, reboot, checks. */
export function renderSummary(s: Summary, style: Style): string {
  const out: string[] = ['', paint(style, 'bold', 'Done')];
  const files = s.files.filter((f) => !f.startsWith('/run/'));
  out.push(`  ${markFor(style, 'ok')} ${files.length} file${files.length === 1 ? '' : 's'} changed, ${s.commands} command${s.commands === 1 ? '' : 's'} run`);
  for (const f of files) out.push(`      ${f}`);
  if (s.backupDir)
    out.push(`  ${markFor(style, 'info')} Backups: ${s.backupDir} (undo with \`sudo ampio-bridge setup --rollback${s.root ? ` --root ${s.root}` : ''}\`)`);
  if (s.status) out.push(`  ${markFor(style, 'ok')} ${s.status}`);
  if (s.root) {
    out.push(`  ${markFor(style, 'info')} Image at ${s.root} is ready: ${SERVICE} starts when it boots.`);
  } else if (s.needsReboot) {
    out.push(
      `  ${markFor(style, 'warn')} ${s.rebooting ? 'Rebooting now' : 'Reboot needed'} so the CAN HAT overlays load${s.rebooting ? '.' : ': `sudo reboot`'}`,
      `      After the reboot, check everything with:  ampio-bridge doctor`,
    );
  }
  out.push('', 'Check it:');
  for (const i of s.interfaces) out.push(`  ip -details link show ${i}`);
  out.push('  ampio-bridge status', '  ampio-bridge top', '  ampio-bridge doctor');
  if (s.connect.length) out.push('', ...s.connect);
  if (s.capture) out.push(`Every bus frame is kept in ${s.capture}: ask it with \`ampio-bridge capture query --since 1h\`.`);
  if (s.web) out.push(`Open the web page on a phone or computer on this network: ${s.web}`);
  if (s.webToken) {
    out.push(
      `  ${markFor(style, 'warn')} Web write token (shown this once; only its hash is stored): ${paint(style, 'bold', s.webToken)}`,
      '      Enter it on the page to send frames or switch outputs; `sudo ampio-bridge setup --http-token new` makes another.',
    );
  }
  return out.join('\n');
}

/** One line to a stream, newline-terminated. */
export function say(out: Writable, text: string): void {
  out.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function errorLines(style: Style, err: { message: string; hint?: string }): string {
  return `${markFor(style, 'fail')} ${err.message}${err.hint ? `\n    ${paint(style, 'dim', 'fix:')} ${err.hint}` : ''}`;
}
