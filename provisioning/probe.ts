// Probe: read-only facts about the target system (detect, don't assume). Reads go through the Fs (so --root and fixtures work); the few live questions
// (ip, systemctl is-active, npm prefix) go through the Runner, and any failure of those
// becomes "unknown" rather than an error: a dry run probes with a runner that refuses all.

import * as path from 'node:path';
import type { Fs } from './io/fs.js';
import type { Runner } from './io/runner.js';
import { parseIpLinkJson, parseOsRelease, parseSystemdVersion } from './diagnose.js';
import { isBootConfigStub } from './steps/boot-config.js';
import { parseProcNumber } from './steps/rcvbuf-sysctl.js';
import { groupsOf, userExists } from './steps/service-user.js';
import { parseEnvFile } from './migrate.js';
import { detectInstallSource, type InstallSource, treeFingerprint } from './install-source.js';
import { PATHS, SERVICE_USER, type Facts } from './types.js';

export interface ProbeInput {
  fs: Fs;
  runner: Runner;
  /** --root DIR, or null for the live system */
  root: string | null;
  /** node binary for ExecStart (--node, else the one running setup) */
  nodePath: string;
  /** main.js of the running CLI */
  runningMain: string;
  /** process.env (SUDO_USER) */
  env: Record<string, string | undefined>;
  /** Where the running package came from (default: detected from runningMain on the host). */
  installSource?: InstallSource;
  /** Fingerprints a package directory on the host (default: install-source.ts treeFingerprint). */
  treeFingerprint?: (dir: string) => string | null;
  /** This machine's hostname (live setup); under --root the image's /etc/hostname is used. */
  hostname?: string;
}

const BOOT_FIRMWARE = '/boot/firmware/config.txt';
const BOOT_LEGACY = '/boot/config.txt';

async function tryRun(runner: Runner, argv: string[]): Promise<string | null> {
  try {
    const r = await runner.run(argv, { timeoutMs: 15_000 });
    return r.exitCode === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

async function exists(fs: Fs, p: string): Promise<boolean> {
  return (await fs.lstat(p)) !== null;
}

/** Follows a chain of symlinks to the file we may write; never the link itself. */
async function realPath(fs: Fs, p: string): Promise<string> {
  let cur = p;
  for (let i = 0; i < 8; i++) {
    const t = await fs.readlink(cur);
    if (t === null) return cur;
    cur = t;
  }
  return cur;
}

async function probeBoot(fs: Fs): Promise<Facts['boot']> {
  const firmware = await fs.stat(BOOT_FIRMWARE);
  if (firmware?.kind === 'file') {
    const real = await realPath(fs, BOOT_FIRMWARE);
    return { path: BOOT_FIRMWARE, realPath: real, content: await fs.readText(real), problem: null };
  }
  const legacy = await fs.stat(BOOT_LEGACY);
  if (legacy?.kind === 'file') {
    const real = await realPath(fs, BOOT_LEGACY);
    const content = await fs.readText(real);
    if (content !== null && isBootConfigStub(content)) {
      return {
        path: null,
        realPath: null,
        content: null,
        problem: `${BOOT_LEGACY} is the Bookworm stub that says "DO NOT EDIT", and ${BOOT_FIRMWARE} is missing: is the boot partition mounted? (raspberrypi/documentation#3089)`,
      };
    }
    return { path: BOOT_LEGACY, realPath: real, content, problem: null };
  }
  return { path: null, realPath: null, content: null, problem: `no config.txt at ${BOOT_FIRMWARE} or ${BOOT_LEGACY}: this does not look like Raspberry Pi OS` };
}

/** Where a program may not live for a hardened service: home directories and nvm. */
function nodeProblem(p: string): string | null {
  if (!p.startsWith('/')) return `node path "${p}" is not absolute`;
  if (/\/\.nvm\/|\/\.volta\/|\/\.fnm\/|\/\.asdf\//.test(p) || p.startsWith('/home/') || p.startsWith('/root/')) {
    return `node is at ${p}: a version manager or home directory that the service (its own user, ProtectHome=yes) cannot reach (node-red raspbian-deb-package#11)`;
  }
  return null;
}

function isEphemeral(main: string): boolean {
  return /\/_npx\/|\/\.npm\//.test(main) || main.startsWith('/tmp/') || main.startsWith('/home/') || main.startsWith('/root/') || main.startsWith('/var/tmp/');
}

export async function probe(input: ProbeInput): Promise<Facts> {
  const { fs, runner, root } = input;
  const live = root === null;

  const model = (await fs.readText('/proc/device-tree/model')) ?? (await fs.readText('/sys/firmware/devicetree/base/model'));
  const os = parseOsRelease(await fs.readText('/etc/os-release'));
  const boot = await probeBoot(fs);

  let canLinks: Facts['canLinks'] = null;
  if (live) {
    const out = await tryRun(runner, ['ip', '-details', '-json', 'link', 'show', 'type', 'can']);
    if (out !== null) {
      try {
        canLinks = parseIpLinkJson(out).map(({ name, state, bitrate, restartMs, qlen, canState }) => ({ name, state, bitrate, restartMs, qlen, canState }));
      } catch {
        canLinks = null;
      }
    }
  }

  const wants = '/etc/systemd/system/multi-user.target.wants';
  const ifaces = (await fs.readText('/etc/network/interfaces')) ?? '';
  const ifacesD = (await fs.readdir('/etc/network/interfaces.d')) ?? [];
  let canStanzas = /^\s*(auto|allow-hotplug|iface)\s+can\d/m.test(ifaces);
  for (const f of ifacesD) if (/^\s*(auto|allow-hotplug|iface)\s+can\d/m.test((await fs.readText(`/etc/network/interfaces.d/${f}`)) ?? '')) canStanzas = true;
  const networkdUnits = [
    '/usr/lib/systemd/system/systemd-networkd.service',
    '/lib/systemd/system/systemd-networkd.service',
    '/etc/systemd/system/systemd-networkd.service',
  ];
  let networkdInstalled = false;
  for (const u of networkdUnits) if (await exists(fs, u)) networkdInstalled = true;
  const linkManagers: Facts['linkManagers'] = {
    networkd: { installed: networkdInstalled, enabled: await exists(fs, `${wants}/systemd-networkd.service`) },
    networkManager: {
      installed:
        (await exists(fs, '/usr/sbin/NetworkManager')) ||
        (await exists(fs, '/usr/lib/systemd/system/NetworkManager.service')) ||
        (await exists(fs, '/lib/systemd/system/NetworkManager.service')),
      enabled: await exists(fs, `${wants}/NetworkManager.service`),
    },
    ifupdown: { installed: (await exists(fs, '/sbin/ifup')) || (await exists(fs, '/usr/sbin/ifup')), canStanzas },
  };

  let systemdVersion: number | null = null;
  if (live) {
    const out = await tryRun(runner, ['systemctl', '--version']);
    if (out) systemdVersion = parseSystemdVersion(out);
  }
  if (systemdVersion === null) {
    for (const dir of ['/usr/lib/systemd', '/lib/systemd']) {
      for (const name of (await fs.readdir(dir)) ?? []) {
        const m = /^libsystemd-shared-(\d+)/.exec(name);
        if (m) systemdVersion = Number(m[1]);
      }
      if (systemdVersion !== null) break;
    }
  }

  const apt = (await exists(fs, '/usr/bin/apt-get')) || (await exists(fs, '/bin/apt-get'));
  let ipPath = '/sbin/ip';
  for (const candidate of ['/usr/sbin/ip', '/usr/bin/ip', '/sbin/ip', '/bin/ip']) {
    if (await exists(fs, candidate)) {
      ipPath = candidate;
      break;
    }
  }
  const imageHostname = live ? null : ((await fs.readText('/etc/hostname')) ?? '').trim().split(/\s+/)[0] || null;

  let globalPrefix = '/usr/local';
  // npm in the target: needed when setup has to install the package for the service.
  let npm = (await exists(fs, '/usr/bin/npm')) || (await exists(fs, '/usr/local/bin/npm'));
  if (live) {
    const out = await tryRun(runner, ['npm', 'prefix', '--global']);
    if (out?.trim().startsWith('/')) {
      globalPrefix = out.trim();
      npm = true;
    }
  }

  const serialDevices: string[] = [];
  const serialTargets: Record<string, string> = {};
  for (const name of (await fs.readdir('/dev/serial/by-id')) ?? []) {
    const p = `/dev/serial/by-id/${name}`;
    serialDevices.push(p);
    const t = await fs.readlink(p);
    if (t) serialTargets[p] = t;
  }

  let goServer: Facts['goServer'] = null;
  for (const unitPath of PATHS.goUnits) {
    if (await exists(fs, unitPath)) {
      const active = live ? await isActive(runner, 'can-server.service') : null;
      goServer = { unitPath, enabled: await exists(fs, PATHS.goWants), active, env: parseEnvFile(await fs.readText(PATHS.goDefaults)) };
      break;
    }
  }

  let config: Record<string, unknown> | null = null;
  let configProblem: string | null = null;
  const configText = await fs.readText(PATHS.configFile);
  if (configText !== null) {
    try {
      const parsed = JSON.parse(configText) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
      else configProblem = `${PATHS.configFile} is not a JSON object`;
    } catch (err) {
      configProblem = `${PATHS.configFile} is not valid JSON (${(err as Error).message}); setup will replace it, keeping a backup`;
    }
  }

  const passwd = await fs.readText('/etc/passwd');
  const group = await fs.readText('/etc/group');
  const sudo = input.env.SUDO_USER;

  const files: Record<string, string | null> = {};
  const modes: Record<string, number> = {};
  const owned: string[] = [
    PATHS.unit,
    PATHS.envFile,
    PATHS.configFile,
    PATHS.network,
    PATHS.link,
    PATHS.udevRule,
    PATHS.nmConf,
    PATHS.manualNetwork,
    PATHS.manualUdevRule,
    PATHS.rebootMarker,
    PATHS.linkSetupUnit,
    PATHS.sysctlConf,
  ];
  if (boot.realPath) owned.push(boot.realPath);
  for (const p of owned) {
    files[p] = await fs.readText(p);
    const st = await fs.stat(p);
    if (st) modes[p] = st.mode;
  }

  const main = input.runningMain;
  const source = input.installSource ?? detectInstallSource(main);
  const installedTree = ((await fs.readText(PATHS.installedTree)) ?? '').trim() || null;
  const globalMain = path.posix.join(globalPrefix, 'lib/node_modules/ampio-bridge/dist/src/cli/main.js');
  const globalPkg = await fs.readText(path.posix.join(globalPrefix, 'lib/node_modules/ampio-bridge/package.json'));
  let installedVersion: string | null = null;
  try {
    installedVersion = globalPkg ? ((JSON.parse(globalPkg) as { version?: string }).version ?? null) : null;
  } catch {
    installedVersion = null;
  }

  return {
    root,
    board: model ? model.replace(/\0/g, '').trim() : null,
    os,
    boot,
    canLinks,
    linkManagers,
    systemdVersion,
    apt,
    ipPath,
    hostname: live ? (input.hostname ?? null) : imageHostname,
    node: { path: input.nodePath, problem: nodeProblem(input.nodePath) },
    install: {
      running: main,
      ephemeral: isEphemeral(main) && main !== globalMain,
      globalPrefix,
      installedVersion,
      npm,
      source,
      tree: source.kind === 'directory' ? (input.treeFingerprint ?? treeFingerprint)(source.dir) : null,
      installedTree,
    },
    serialDevices,
    serialTargets,
    goServer,
    existing: {
      config,
      configProblem,
      unitEnabled: await exists(fs, PATHS.unitWants),
      linkOneshotEnabled: await exists(fs, PATHS.linkSetupWants),
      active: live ? await isActive(runner, 'ampio-bridge.service') : null,
    },
    user: { exists: userExists(passwd, SERVICE_USER), groups: groupsOf(group, SERVICE_USER), sudoUserGroups: sudo ? groupsOf(group, sudo) : [] },
    // An image's /proc (if any) is not the kernel the Pi will run.
    rmemMax: live ? parseProcNumber(await fs.readText(PATHS.rmemMaxProc)) : null,
    rebootPending: await exists(fs, PATHS.rebootMarker),
    sudoUser: live && sudo && sudo !== 'root' ? sudo : null,
    files,
    modes,
  };
}

async function isActive(runner: Runner, unit: string): Promise<boolean | null> {
  try {
    const r = await runner.run(['systemctl', 'is-active', unit], { timeoutMs: 15_000 });
    // is-active prints the state and exits non-zero for anything but active.
    const state = r.stdout.trim();
    if (state === '') return null;
    return state === 'active' || state === 'reloading' || state === 'activating';
  } catch {
    return null;
  }
}
