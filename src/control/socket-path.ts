// Where the control socket is: one resolution for `serve`, `status`, `top` and `doctor`, so
// a command run from a login shell or with sudo finds the socket the service created.
//
// Order:  --control-socket  >  $AMPIO_BRIDGE_CONTROL_SOCKET  >  /run/ampio-bridge/control.sock
// when it exists (the systemd service's RuntimeDirectory=)  >  the per-user runtime dir
// ($RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR/ampio-bridge, else <tmp>/ampio-bridge-<uid>).
// `serve` itself never picks the system path by existence: under systemd it gets
// $RUNTIME_DIRECTORY, which is that same directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the packaged service's socket lives (`RuntimeDirectory=ampio-bridge` in the unit). */
export const SYSTEM_RUNTIME_DIR = '/run/ampio-bridge';
export const CONTROL_SOCKET_NAME = 'control.sock';
export const CONTROL_SOCKET_ENV = 'AMPIO_BRIDGE_CONTROL_SOCKET';
/**
 * sockaddr_un.sun_path is 108 bytes including the terminating NUL; a longer path is
 * silently truncated by some calls and refused by others, so it is refused up front.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export type SocketPathSource = 'flag' | 'env' | 'system' | 'runtime-directory' | 'xdg-runtime-dir' | 'tmp';

export interface ResolvedSocketPath {
  path: string;
  source: SocketPathSource;
  /** A per-user default directory under the shared temp dir: it must be ours (see checkRuntimeDir). */
  sharedTmp: boolean;
}

export interface ResolveOptions {
  /** --control-socket (or serve's merged config value: flag > env > config file). */
  flag?: string | null;
  env: Record<string, string | undefined>;
  uid?: number;
  /** Who asks: a client also looks for the system service's socket. */
  role: 'daemon' | 'client';
  /** The service's runtime directory; tests point it into a temp dir. Default /run/ampio-bridge. */
  systemRuntimeDir?: string;
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** The per-user default, as a daemon started by this user would pick it. */
export function userControlSocketPath(env: Record<string, string | undefined>, uid: number = currentUid()): ResolvedSocketPath {
  // systemd joins several RuntimeDirectory= entries with ':'; ours is the first.
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0];
  if (runtime) return { path: path.join(runtime, CONTROL_SOCKET_NAME), source: 'runtime-directory', sharedTmp: false };
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) return { path: path.join(xdg, 'ampio-bridge', CONTROL_SOCKET_NAME), source: 'xdg-runtime-dir', sharedTmp: false };
  return { path: path.join(os.tmpdir(), `ampio-bridge-${uid}`, CONTROL_SOCKET_NAME), source: 'tmp', sharedTmp: true };
}

/**
 * The one resolution. The only filesystem call is one lstat of the system socket (clients
 * only); /run is a local tmpfs, so that cannot block.
 */
export function resolveControlSocket(o: ResolveOptions): ResolvedSocketPath {
  const flag = o.flag?.trim();
  if (flag) return { path: flag, source: 'flag', sharedTmp: false };
  const fromEnv = o.env[CONTROL_SOCKET_ENV]?.trim();
  if (fromEnv) return { path: fromEnv, source: 'env', sharedTmp: false };
  if (o.role === 'client') {
    const system = path.join(o.systemRuntimeDir ?? SYSTEM_RUNTIME_DIR, CONTROL_SOCKET_NAME);
    if (isSocket(system)) return { path: system, source: 'system', sharedTmp: false };
  }
  return userControlSocketPath(o.env, o.uid ?? currentUid());
}

/**
 * The service's socket is there. A user outside the ampio-bridge group cannot even look into
 * /run/ampio-bridge (0750): that still means the service's socket, so the connect then
 * fails with "permission denied" and the hint to join the group, not with "not running".
 */
function isSocket(p: string): boolean {
  try {
    return fs.lstatSync(p).isSocket();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES';
  }
}

/** Why a socket path cannot work, checked before any filesystem call; null when it is fine. */
export function socketPathProblem(socketPath: string): string | null {
  if (socketPath.includes('\0')) return 'the path contains a NUL byte';
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    return `the path is ${bytes} bytes long; a Unix socket path can be at most ${MAX_SOCKET_PATH_BYTES} bytes`;
  }
  if (socketPath.endsWith('/')) return 'the path names a directory, not a socket file';
  return null;
}

export interface DirFacts {
  isDirectory: boolean;
  isSymlink: boolean;
  uid: number;
  mode: number;
}

/**
 * Whether a directory may hold the control socket of a process running as `uid`. Anyone
 * who can replace files in it can put a fake socket there and feed forged readings (with
 * terminal escape codes) to whoever runs `status`, or take the daemon's place. So the
 * directory must be owned by that user or root and not writable by others, unless it is
 * a sticky directory like /tmp, where nobody can replace another user's file. The per-user
 * default under /tmp must be owned by the user and writable by nobody else.
 */
export function runtimeDirProblem(dir: string, st: DirFacts, uid: number, opts: { ownedOnly: boolean }): string | null {
  if (st.isSymlink) return `${dir} is a symbolic link; the control socket's directory must be a real directory`;
  if (!st.isDirectory) return `${dir} is not a directory`;
  const owners = opts.ownedOnly ? [uid] : [uid, 0];
  if (!owners.includes(st.uid)) {
    return `${dir} is owned by uid ${st.uid}, not by ${opts.ownedOnly ? `this user (uid ${uid})` : `this user (uid ${uid}) or root`}: another account could plant a fake control socket there`;
  }
  const sticky = (st.mode & 0o1000) !== 0;
  if (opts.ownedOnly && (st.mode & 0o002) !== 0) {
    return `${dir} is writable by other users (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): another account could plant a fake control socket there`;
  }
  if ((st.mode & 0o002) !== 0 && !sticky) {
    return `${dir} is writable by every user (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): another account could plant a fake control socket there`;
  }
  return null;
}

/** lstat facts of a directory for runtimeDirProblem, or null when it does not exist. */
export async function dirFacts(dir: string): Promise<DirFacts | null> {
  try {
    const st = await fs.promises.lstat(dir);
    return { isDirectory: st.isDirectory(), isSymlink: st.isSymbolicLink(), uid: st.uid, mode: st.mode };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
