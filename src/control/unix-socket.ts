// The daemon's side of the socket file: validate the path, check and create its directory,
// replace a stale socket, listen, set the mode. Every filesystem call here is asynchronous
// and bounded: a path under /proc once made a recursive mkdirSync spin forever with SIGTERM
// unanswered, so nothing is created recursively and virtual filesystems are refused.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { dirFacts, runtimeDirProblem, socketPathProblem } from './socket-path.js';

export class ControlSocketInUseError extends Error {
  override readonly name = 'ControlSocketInUseError';
  readonly code = 'control_socket_in_use';
  readonly hint: string;
  readonly path: string;
  constructor(socketPath: string) {
    const hint =
      'Another ampio-bridge daemon is already running with this control socket. Stop it first ("sudo systemctl stop ampio-bridge"), or give this one its own socket with --control-socket PATH';
    super(`control socket ${socketPath} is in use by a running daemon. ${hint}`);
    this.path = socketPath;
    this.hint = hint;
  }
}

export type ControlSocketErrorCode =
  | 'control_socket_not_socket'
  | 'control_socket_dir'
  | 'control_socket_listen'
  | 'control_socket_path'
  | 'control_socket_unsafe_dir';

export class ControlSocketError extends Error {
  override readonly name = 'ControlSocketError';
  readonly code: ControlSocketErrorCode;
  readonly hint: string;
  readonly path: string;
  constructor(code: ControlSocketErrorCode, socketPath: string, detail: string, hint: string, cause?: unknown) {
    super(`${detail}. ${hint}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = socketPath;
    this.hint = hint;
  }
}

const OTHER_PATH = 'choose another path with --control-socket PATH (or AMPIO_BRIDGE_CONTROL_SOCKET)';

/**
 * statfs magic numbers of kernel virtual filesystems: a socket can never live there, and
 * walking or creating paths in them can misbehave (/proc/self/... loops).
 */
const VIRTUAL_FS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x74726163, 'tracefs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
]);

/** Tries to connect: true if a daemon answers, false if the file is a dead socket. */
export function probeSocket(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: socketPath });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // Something holds it and does not answer: treat it as in use, never steal it.
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

export interface PrepareOptions {
  /** The uid the daemon runs as (owner the directory must have). */
  uid: number;
  /** The per-user default under the shared temp dir: must be owned by `uid` alone. Default: recognised by its name. */
  sharedTmp?: boolean;
  log: (level: 'info' | 'warn', event: string, fields: Record<string, unknown>) => void;
}

/** Makes `socketPath` ready to listen on, or throws ControlSocketError / ControlSocketInUseError. */
export async function prepareSocketFile(socketPath: string, o: PrepareOptions): Promise<void> {
  const pathProblem = socketPathProblem(socketPath);
  if (pathProblem)
    throw new ControlSocketError(
      'control_socket_path',
      socketPath,
      `cannot use ${JSON.stringify(socketPath)} as the control socket: ${pathProblem}`,
      `Use a shorter path: ${OTHER_PATH}`,
    );
  const dir = path.dirname(path.resolve(socketPath));
  const sharedTmp = o.sharedTmp ?? isSharedTmpDefault(dir);
  const dirError = (detail: string, cause?: unknown): ControlSocketError =>
    new ControlSocketError('control_socket_dir', socketPath, detail, `Create it with write access for the service user, or ${OTHER_PATH}`, cause);

  let facts = await dirFacts(dir).catch((err: unknown) => {
    throw dirError(`cannot inspect the directory ${dir} for the control socket`, err);
  });
  if (facts === null) {
    // Only the last component is created (the per-user ampio-bridge-<uid> or
    // $XDG_RUNTIME_DIR/ampio-bridge directory); its parent must already be a real directory.
    const parent = path.dirname(dir);
    const parentFacts = await dirFacts(parent).catch(() => null);
    if (!parentFacts?.isDirectory)
      throw dirError(
        `${parent} is not an existing directory${parentFacts?.isSymlink ? ' (it is a symbolic link)' : ''}, so ${dir} cannot be created for the control socket`,
      );
    await refuseVirtualFs(parent, socketPath);
    try {
      await fs.promises.mkdir(dir, { mode: sharedTmp ? 0o700 : 0o770 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw dirError(`cannot create the directory ${dir} for the control socket`, err);
    }
    facts = await dirFacts(dir);
    if (facts === null) throw dirError(`the directory ${dir} vanished while it was being created`);
  }
  if (facts.isDirectory) await refuseVirtualFs(dir, socketPath);
  const unsafe = runtimeDirProblem(dir, facts, o.uid, { ownedOnly: sharedTmp });
  if (unsafe) {
    throw new ControlSocketError(
      'control_socket_unsafe_dir',
      socketPath,
      `refusing the control socket directory: ${unsafe}`,
      sharedTmp
        ? `Remove it ("sudo rm -r ${dir}") and start again, set XDG_RUNTIME_DIR, or ${OTHER_PATH}`
        : `Fix its owner/mode ("sudo chown <service user> ${dir}; sudo chmod o-w ${dir}"), or ${OTHER_PATH}`,
    );
  }
  try {
    await fs.promises.access(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw dirError(`the directory ${dir} is not writable by this user`, err);
  }

  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(socketPath);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) {
    throw new ControlSocketError('control_socket_not_socket', socketPath, `${socketPath} exists and is not a socket`, `Remove that file or ${OTHER_PATH}`);
  }
  if (await probeSocket(socketPath)) throw new ControlSocketInUseError(socketPath);
  // A socket file nobody listens on: left by a daemon that crashed. Replace it.
  await fs.promises.rm(socketPath, { force: true });
  o.log('info', 'control_socket_stale_removed', { path: socketPath });
}

/** <tmp>/ampio-bridge-<uid>: anyone could have created it before us. */
function isSharedTmpDefault(dir: string): boolean {
  return path.dirname(dir) === path.resolve(os.tmpdir()) && /^ampio-bridge-\d+$/.test(path.basename(dir));
}

async function refuseVirtualFs(dir: string, socketPath: string): Promise<void> {
  let type: number;
  try {
    type = Number((await fs.promises.statfs(dir)).type);
  } catch {
    return; // statfs unsupported: the later calls report what is wrong
  }
  const name = VIRTUAL_FS.get(type);
  if (name) {
    throw new ControlSocketError(
      'control_socket_dir',
      socketPath,
      `${dir} is on the kernel's ${name} filesystem, which cannot hold a socket`,
      `Use a directory on a real or tmpfs filesystem: ${OTHER_PATH}`,
    );
  }
}

/** Listens on a prepared path and applies `mode`; removes the socket file again on failure. */
export async function listenUnix(socketPath: string, mode: number, onConnection: (s: net.Socket) => void, onError: (err: Error) => void): Promise<net.Server> {
  let srv: net.Server;
  try {
    srv = await new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer({ allowHalfOpen: false }, onConnection);
      s.once('error', reject);
      s.listen(socketPath, () => {
        s.off('error', reject);
        s.on('error', onError);
        resolve(s);
      });
    });
  } catch (err) {
    // Another daemon may have won a race between our probe and bind.
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ControlSocketInUseError(socketPath);
    throw new ControlSocketError(
      'control_socket_listen',
      socketPath,
      `cannot listen on the control socket ${socketPath}: ${(err as Error).message}`,
      `Check that the directory is writable by the service user, or ${OTHER_PATH}`,
      err,
    );
  }
  try {
    await fs.promises.chmod(socketPath, mode);
  } catch (err) {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    await fs.promises.rm(socketPath, { force: true }).catch(() => {});
    throw new ControlSocketError(
      'control_socket_listen',
      socketPath,
      `cannot set the mode of the control socket ${socketPath}: ${(err as Error).message}`,
      OTHER_PATH,
      err,
    );
  }
  return srv;
}
