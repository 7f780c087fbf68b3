// The built CLI's `serve` as a child process, for tests that need the daemon apart from the
// test's own event loop (stalled readers, floods), under a lower descriptor limit (`ulimit
// -n`), or inside a network namespace. Ports come from the `tcp_listen` log lines; every JSON
// log line is kept (bounded) so tests can count what a hostile peer made it write.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/control-client.js';
import type { Snapshot } from '../../src/control/protocol.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UP = path.resolve(HERE, '../..');
/** The repository, whether this runs from test/ (vitest) or from dist/test/ (the benchmarks). */
export const REPO = path.basename(UP) === 'dist' ? path.dirname(UP) : UP;
export const CLI = path.join(REPO, 'dist/src/cli/main.js');

export interface Listener {
  addr: string;
  host: string;
  port: number;
  bus?: string;
  protocol?: string;
}

export interface LogRecord {
  level: string;
  event: string;
  [k: string]: unknown;
}

export interface BridgeChildOptions {
  args: string[];
  /** A shell prefix run before exec (e.g. `ulimit -n 64`). */
  shellPrefix?: string;
  env?: Record<string, string>;
  /** A command the whole start runs under (e.g. ['unshare', '-m']): the shell prefix runs inside it too. */
  wrap?: string[];
  readyTimeoutMs?: number;
  /** Flags for node itself, before the CLI (e.g. `--max-old-space-size=64`). */
  nodeArgs?: string[];
  /** Another build's dist/src/cli/main.js (a benchmark comparing with it); default this one's. */
  cli?: string;
}

/** This process's environment without the bridge's own settings (AMPIO_BRIDGE_*, and the
 * CAN_SERVER_* names it takes over from go-ampio-server): a developer's shell must not change a test run. */
function ownEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AMPIO_BRIDGE_') && !k.startsWith('CAN_SERVER_')) env[k] = v;
  return env;
}

export class BridgeChild {
  readonly listeners: Listener[] = [];
  readonly records: LogRecord[] = [];
  /** Lines written to stderr in total (JSON or not). */
  lines = 0;
  readonly controlSocket: string;

  /** One snapshot over its control socket (as `status --json` reads it). */
  async snapshot(): Promise<Snapshot> {
    const c = await ControlClient.connect(this.controlSocket, { timeoutMs: 5000 });
    try {
      return await c.snapshot();
    } finally {
      c.close();
    }
  }
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderrTail = '';

  private constructor(options: BridgeChildOptions) {
    const cli = options.cli ?? CLI;
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first (npm test does)`);
    this.dir = mkdtempSync(path.join(tmpdir(), 'ampio-hostile-'));
    this.controlSocket = path.join(this.dir, 'control.sock');
    const argv = [...(options.nodeArgs ?? []), cli, 'serve', '--log-format', 'json', '--control-socket', this.controlSocket, ...options.args];
    const quoted = [process.execPath, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const env = { ...ownEnvironment(), ...options.env };
    const wrap = options.wrap ?? [];
    this.child = options.shellPrefix
      ? spawn(wrap[0] ?? 'sh', [...wrap.slice(1), ...(wrap.length > 0 ? ['sh'] : []), '-c', `${options.shellPrefix}; exec ${quoted}`], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env,
        })
      : spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length > 0 ? [process.execPath] : []), ...argv], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env,
        });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(options: BridgeChildOptions): Promise<BridgeChild> {
    const b = new BridgeChild(options);
    await b.waitReady(options.readyTimeoutMs ?? 15_000);
    return b;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Still running (not exited, not killed by a signal). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines it wrote to stderr (why it died, when it did). */
  get tail(): string {
    return this.stderrTail;
  }

  port(protocol?: string, bus = 0): number {
    const l = this.listeners.filter((x) => protocol === undefined || x.protocol === undefined || x.protocol === protocol);
    const hit = l[bus] ?? l[0];
    if (!hit) throw new Error(`no listener${protocol ? ` for ${protocol}` : ''}: ${JSON.stringify(this.listeners)}`);
    return hit.port;
  }

  events(name: string): LogRecord[] {
    return this.records.filter((r) => r.event === name);
  }

  /** Open descriptors of the daemon right now. */
  openFds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  rssBytes(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  }

  async waitFor(pred: (r: LogRecord) => boolean, timeoutMs = 5000, what = 'a log line'): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last lines:\n${this.stderrTail}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => reject(new Error(`the bridge was not ready within ${timeoutMs} ms:\n${this.stderrTail}`)), timeoutMs);
      this.child.stderr!.setEncoding('utf8');
      this.child.stderr!.on('data', (d: string) => {
        this.stderrTail = (this.stderrTail + d).slice(-8000);
        pending += d;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          this.lines++;
          let rec: LogRecord;
          try {
            rec = JSON.parse(line);
          } catch {
            continue;
          }
          if (this.records.length < 200_000) this.records.push(rec);
          if (rec.event === 'tcp_listen') {
            const addr = String(rec.addr);
            const i = addr.lastIndexOf(':');
            this.listeners.push({
              addr,
              host: addr.slice(0, i).replace(/^\[|\]$/g, ''),
              port: Number(addr.slice(i + 1)),
              bus: rec.bus as string | undefined,
              protocol: rec.protocol as string | undefined,
            });
          }
          if (rec.event === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      this.child.once('exit', (code) => reject(new Error(`the bridge exited with ${code} before it was ready:\n${this.stderrTail}`)));
    });
  }

  /** SIGTERM, then SIGKILL after 5 s (by this child's pid only). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }

  /** SIGHUP (reload). */
  reload(): void {
    this.child.kill('SIGHUP');
  }
}
