import type { InstallSource } from './install-source.js';

// Shared data shapes of setup: what probe finds (Facts), what the person chose (Answers)
// and what plan produces (Plan). Plain data: JSON-serialisable, no functions.

/** Paths of every file setup owns plus the state it keeps. */
export const PATHS = {
  unit: '/etc/systemd/system/ampio-bridge.service',
  envFile: '/etc/default/ampio-bridge',
  configDir: '/etc/ampio-bridge',
  configFile: '/etc/ampio-bridge/config.json',
  network: '/etc/systemd/network/80-ampio-can.network',
  link: '/etc/systemd/network/80-ampio-can.link',
  udevRule: '/etc/udev/rules.d/90-ampio-can.rules',
  nmConf: '/etc/NetworkManager/conf.d/90-ampio-can.conf',
  /** Without systemd-networkd (and no apt to install it): a oneshot that runs `ip link` at boot. */
  linkSetupUnit: '/etc/systemd/system/ampio-can-links.service',
  linkSetupWants: '/etc/systemd/system/multi-user.target.wants/ampio-can-links.service',
  /** Raises net.core.rmem_max so the unprivileged service gets the --can-rcvbuf it asks for. */
  sysctlConf: '/etc/sysctl.d/60-ampio-bridge.conf',
  /** The running kernel's ceiling for an unprivileged socket's receive buffer. */
  rmemMaxProc: '/proc/sys/net/core/rmem_max',
  stateDir: '/var/lib/ampio-bridge',
  backupsDir: '/var/lib/ampio-bridge/backups',
  /** The fingerprint of the tree setup last installed from a clone: a re-run of the same tree packs nothing. */
  installedTree: '/var/lib/ampio-bridge/installed-tree',
  controlSocket: '/run/ampio-bridge/control.sock',
  /** On tmpfs, so a reboot clears it: "config.txt changed, overlays not loaded yet". */
  rebootMarker: '/run/ampio-bridge-setup.reboot-required',
  unitWants: '/etc/systemd/system/multi-user.target.wants/ampio-bridge.service',
  /** go-ampio-server */
  goUnits: ['/etc/systemd/system/can-server.service', '/lib/systemd/system/can-server.service', '/usr/lib/systemd/system/can-server.service'],
  goDefaults: '/etc/default/can-server',
  goWants: '/etc/systemd/system/multi-user.target.wants/can-server.service',
  /** Files the go-ampio-server guide (2-CH-CAN-HAT.md) told people to create by hand. */
  manualNetwork: '/etc/systemd/network/can.network',
  manualUdevRule: '/etc/udev/rules.d/10-can-queue.rules',
} as const;

export const SERVICE = 'ampio-bridge.service';
export const SERVICE_USER = 'ampio-bridge';

export interface CanLinkFacts {
  name: string;
  /** UP, DOWN … (operstate) */
  state: string;
  bitrate: number | null;
  restartMs: number | null;
  qlen: number | null;
  canState: string | null;
}

export interface Facts {
  /** The host directory everything lives under; null on the live system. */
  root: string | null;
  board: string | null;
  os: { prettyName: string; id: string; codename: string } | null;
  boot: {
    /** The config.txt to edit, or null when none could be used. */
    path: string | null;
    /** Where it really is when `path` is a symlink (we write there, never over the link). */
    realPath: string | null;
    content: string | null;
    /** Why no usable config.txt was found (missing, only the Bookworm stub …). */
    problem: string | null;
  };
  canLinks: CanLinkFacts[] | null; // null: could not ask the live system
  linkManagers: {
    /** installed: its unit file exists in the target (Debian 13 ships it as its own package). */
    networkd: { installed: boolean; enabled: boolean };
    networkManager: { installed: boolean; enabled: boolean };
    ifupdown: { installed: boolean; canStanzas: boolean };
  };
  systemdVersion: number | null;
  /** apt-get exists in the target (a missing package can be a planned install step). */
  apt: boolean;
  /** Where `ip` lives in the target (for the oneshot fallback unit). */
  ipPath: string;
  /** The target's hostname: this machine's when live, the image's /etc/hostname under --root (null: none set). */
  hostname: string | null;
  node: { path: string; problem: string | null };
  install: {
    /** main.js the running CLI came from */
    running: string;
    /** true when `running` vanishes (npx cache, tmp, a home directory systemd cannot read) */
    ephemeral: boolean;
    /** npm's global prefix, for a permanent install */
    globalPrefix: string;
    /** version of ampio-bridge already installed under globalPrefix */
    installedVersion: string | null;
    /** Where the running package came from: what setup installs for the service. */
    source: InstallSource;
    /** For a directory source (a clone): the running tree's fingerprint (install-source.ts treeFingerprint). */
    tree: string | null;
    /** The fingerprint of the tree setup last packed and installed (PATHS.installedTree), if any. */
    installedTree: string | null;
    /** npm is there (live: it answered; image: its program exists in the image). */
    npm: boolean;
  };
  serialDevices: string[];
  /** by-id path → the device node it points at (/dev/ttyUSB0) */
  serialTargets: Record<string, string>;
  goServer: {
    unitPath: string;
    enabled: boolean;
    active: boolean | null;
    env: Record<string, string>;
  } | null;
  existing: {
    config: Record<string, unknown> | null;
    configProblem: string | null;
    unitEnabled: boolean;
    active: boolean | null;
    /** The no-networkd fallback unit is enabled. */
    linkOneshotEnabled: boolean;
  };
  user: { exists: boolean; groups: string[]; sudoUserGroups: string[] };
  /** The running kernel's net.core.rmem_max (null: under --root, or no /proc to read). */
  rmemMax: number | null;
  /** A previous run changed config.txt and the machine has not rebooted since. */
  rebootPending: boolean;
  /** The user who ran `sudo` (added to the ampio-bridge group so `top` works without sudo). */
  sudoUser: string | null;
  /** Current contents (null = absent) of every file the plan may touch. */
  files: Record<string, string | null>;
  /** File modes of those that exist. */
  modes: Record<string, number>;
}

export interface Answers {
  backend: 'socketcan' | 'serial';
  board: string;
  oscillator?: number;
  interrupt?: number;
  interfaces: string[];
  bitrate: number;
  txqueuelen: number;
  restartMs: number;
  /** The bus port every install has (the registry's `ask: address` protocol). */
  listen: string;
  maxClients: number;
  hubPolicy: 'drop' | 'kick';
  mdns: boolean;
  /** '' = metrics/ready endpoint off; only used while the web page is off (httpListen ''). */
  metricsAddr: string;
  /** The web page's HTTP address (also /metrics, /ready, /healthz); '' = off. */
  httpListen: string;
  /** The web page's write token: 'new' makes one (printed once, its hash stored), 'off' removes it; absent = keep what config.json has. */
  httpToken?: 'new' | 'off';
  /** The hash of a token made by this run (setup fills it in; never asked). */
  httpTokenHash?: string;
  /**
   * The listen address of each protocol setup offers (provisioning/protocols.ts), and the
   * server each protocol setup asks about dials (DIALS), by option name; '' = off.
   */
  listeners: Record<string, string>;
  /**
   * The discovery broadcasts setup asks about (a protocol's `setup.discoveryQuestion`), by
   * option name: on only when answered yes, and only with that protocol's listener.
   */
  discovery: Record<string, boolean>;
  /** SQLite file keeping every bus frame (`ampio-bridge capture query`); '' = off. */
  capture: string;
  /** MQTT broker the house is published to (--mqtt-url); '' or absent = off. */
  mqttUrl?: string;
  serial: string;
  /** Migrate /etc/default/can-server and disable can-server.service. */
  migrate: boolean;
  /** Who may connect (--allow): local, loopback, any or CIDRs; absent = the daemon's default (local). */
  allow?: string;
  /** Per-client TX rate (--tx-rate) like 192/48; absent or '0' = off. */
  txRate?: string;
  /** SocketCAN receive buffer (--can-rcvbuf), bytes; absent = what config.json has, else the default. */
  canRcvbuf?: number;
}

export type RebootMode = 'ask' | 'never' | 'now';

/**
 * Setup's command line, read by the CLI (src/cli/commands/setup-flags.ts, where the flags
 * that are serve settings come from the options table).
 */
export interface SetupFlags {
  /** The arguments as given, to run setup again under sudo. */
  args: string[];
  mode: 'install' | 'rollback' | 'uninstall';
  yes: boolean;
  dryRun: boolean;
  root: string | null;
  reboot: RebootMode;
  node: string | null;
  color: boolean | null;
  /** Answers given on the command line; the wizard asks only for the rest. */
  answers: Partial<Answers>;
}

export interface Environment {
  version: string;
  /** node binary for ExecStart */
  nodePath: string;
  live: boolean;
}

interface StepBase {
  id: string;
  title: string;
  /** Why this step exists, shown with it. */
  why?: string;
  needsReboot: boolean;
}

export interface WriteStep extends StepBase {
  kind: 'write';
  path: string;
  before: string | null;
  after: string;
  mode: number;
  /** config.json goes through conf */
  via: 'fs' | 'conf';
  /** store for `via: conf` */
  store?: Record<string, unknown>;
}

export interface RemoveStep extends StepBase {
  kind: 'remove';
  path: string;
  before: string;
}

export interface CommandStep extends StepBase {
  kind: 'command';
  argv: string[];
  /** Needs the running system (daemon-reload, start, ip, npm …): listed, not run, under --root. */
  live: boolean;
  /** What undoes it on rollback, when something does. */
  undo?: string[];
}

export type Step = WriteStep | RemoveStep | CommandStep;

export interface Notice {
  level: 'info' | 'warn' | 'error';
  text: string;
  fix?: string;
}

export interface Plan {
  steps: Step[];
  /** Live-system commands that --root could not run, for the person to run on the target. */
  deferred: CommandStep[];
  notices: Notice[];
  needsReboot: boolean;
}
