// The orchestrator's handle on the load generator process (load-client.ts), over IPC.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromLoad, LoadConfig, ToLoad } from './messages.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

type Result = Extract<FromLoad, { type: 'result' }>;

export class LoadProcess {
  private readonly child: ChildProcess;
  private waiters: Array<{ type: FromLoad['type']; resolve: (m: FromLoad) => void; reject: (e: Error) => void }> = [];
  private readonly exited: Promise<void>;

  private constructor() {
    this.child = fork(path.join(HERE, 'load-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (raw) => {
      const m = raw as FromLoad;
      if (m.type === 'error') {
        for (const w of this.waiters) w.reject(new Error(`load generator: ${m.message}`));
        this.waiters = [];
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', (code) => {
      for (const w of this.waiters) w.reject(new Error(`load generator exited with ${code}`));
      this.waiters = [];
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Forks the generator and connects every client (resolves once all said hello). */
  static async start(config: LoadConfig): Promise<LoadProcess> {
    const p = new LoadProcess();
    await p.request({ type: 'config', config }, 'ready', 30_000);
    return p;
  }

  /** Starts the measuring window (counters and histogram reset). */
  async begin(): Promise<void> {
    await this.request({ type: 'start' }, 'started', 10_000);
  }

  /** Ends the window and returns what every client saw in it. */
  async end(): Promise<Result> {
    return (await this.request({ type: 'stop' }, 'result', 10_000)) as Result;
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ToLoad);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }

  private request(m: ToLoad, want: FromLoad['type'], timeoutMs: number): Promise<FromLoad> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: no '${want}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type: want,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send(m);
    });
  }
}
