// Host tools the tests run as real parts, each with the Debian package that brings it.
// A test that needs one calls `requireHostTools(...)` first, so a machine without it fails
// with "missing host tool: nc (Debian package netcat-openbsd …)" instead of a timeout far
// from the cause. Never a skip: `.ci/run` installs every package named here.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** tool → the Debian package that installs it. */
export const HOST_TOOLS: Readonly<Record<string, string>> = {
  nc: 'netcat-openbsd',
  socat: 'socat',
  tmux: 'tmux',
  git: 'git',
  unshare: 'util-linux',
  ip: 'iproute2',
  'systemd-analyze': 'systemd',
  kill: 'procps',
  'dpkg-deb': 'dpkg',
  readelf: 'binutils',
  'qemu-aarch64': 'qemu-user',
  'qemu-arm': 'qemu-user',
  'aarch64-linux-gnu-gcc': 'gcc-aarch64-linux-gnu (and libc6-dev-arm64-cross)',
  'arm-linux-gnueabihf-gcc': 'gcc-arm-linux-gnueabihf (and libc6-dev-armhf-cross)',
  'aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu',
  'arm-linux-gnueabihf-g++': 'g++-arm-linux-gnueabihf',
  'qemu-system-x86_64': 'qemu-system-x86',
  candump: 'can-utils',
  cangen: 'can-utils',
  log2long: 'can-utils',
  asc2log: 'can-utils',
  log2asc: 'can-utils',
  tshark: 'tshark',
  mosquitto: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  mosquitto_pub: 'mosquitto-clients',
  chromium: 'chromium',
  openssl: 'openssl',
  '/usr/bin/python3': 'python3 (with python3-can, python3-zeroconf)',
};

function onPath(tool: string, envPath: string): boolean {
  const candidates = tool.includes('/') ? [tool] : [...envPath.split(':'), '/usr/sbin', '/sbin'].filter(Boolean).map((dir) => path.join(dir, tool));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools of `tools` that this machine lacks (empty when all are there). */
export function missingHostTools(tools: readonly string[], envPath = process.env.PATH ?? ''): string[] {
  return tools.filter((tool) => !onPath(tool, envPath));
}

/** Throws one error naming every missing tool and its Debian package. */
export function requireHostTools(...tools: string[]): void {
  const missing = missingHostTools(tools);
  if (missing.length === 0) return;
  const list = missing.map((t) => `${t} (Debian package ${HOST_TOOLS[t] ?? 'unknown: add it to HOST_TOOLS'})`).join(', ');
  throw new Error(
    `missing host tool${missing.length === 1 ? '' : 's'}: ${list}. .ci/run installs them; on another machine: sudo apt-get install the package named.`,
  );
}
