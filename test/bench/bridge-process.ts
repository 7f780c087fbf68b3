// The bridge under test, as its own process: the built CLI (`serve --backend virtual`),
// exactly what `npm start` runs. We learn its ports from the `tcp_listen` log lines and
// read its state through the control socket, like `ampio-bridge status` does.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/control-client.js';
import type { Snapshot } from '../../src/control/protocol.js';
import { cpuTimes, peakRssBytes } from './proc-stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/bench → dist/src/cli/main.js */
export const CLI = path.resolve(HERE, '../../src/cli/main.js');

export interface BridgeOptions {
  /** Flags after `serve` (the backend, rate, payload and listen flags are added here). */
  args: string[];
  /** Number of buses (`--can-if` entries): that many tcp_listen lines to wait for. */
  buses: number;
  /** Extra node flags for the bridge (profiling: --cpu-prof --cpu-prof-dir=…). */
  nodeArgs?: string[];
  /** The CLI to run (default: this build's); another build's for a baseline comparison. */
  cli?: string;
}

export class BridgeProcess {
  /** cannelloni's port per bus. */
  readonly ports: number[] = [];
  /** Every listener's port per bus, by protocol (a build before protocol plug-ins: cannelloni only). */
  readonly portsByProtocol: Record<string, number[]> = {};
  private readonly child: ChildProcess;
  private readonly dir: string;
  readonly controlSocket: string;
  private control: ControlClient | null = null;
  private log = '';
  private exited: Promise<number | null>;

  private constructor(options: BridgeOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'ampio-bench-'));
    this.controlSocket = path.join(this.dir, 'control.sock');
    const args = [
      ...(options.nodeArgs ?? []),
      options.cli ?? CLI,
      'serve',
      '--backend',
      'virtual',
      '--virtual-payload',
      'sequence',
      '--listen',
      '127.0.0.1:0',
      '--log-format',
      'json',
      '--control-socket',
      this.controlSocket,
      // Dozens of load clients from one host, connecting at once: beyond the per-host shares.
      // (Only for this build: a baseline build from before these flags would refuse them.)
      ...(options.cli ? [] : ['--max-clients-per-host', '0', '--max-pending-per-host', '1024']),
      ...options.args,
    ];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(options: BridgeOptions): Promise<BridgeProcess> {
    const b = new BridgeProcess(options);
    await b.waitForPorts(options.buses);
    b.control = await ControlClient.connect(b.controlSocket, { timeoutMs: 5000 });
    return b;
  }

  /** Collects the ports from `tcp_listen` lines until `ready` (backends and control socket up). */
  private waitForPorts(buses: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => reject(new Error(`the bridge was not ready within 10 s:\n${this.log}`)), 10_000);
      this.child.stderr!.setEncoding('utf8');
      this.child.stderr!.on('data', (d: string) => {
        if (this.log.length < 64 * 1024) this.log += d;
        pending += d;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          let rec: { event?: string; addr?: string; protocol?: string };
          try {
            rec = JSON.parse(line);
          } catch {
            continue;
          }
          if (rec.event === 'udp_listen') (this.portsByProtocol[rec.protocol ?? ''] ??= []).push(Number(String(rec.addr).split(':').pop()));
          if (rec.event === 'tcp_listen') {
            const port = Number(String(rec.addr).split(':').pop());
            const protocol = rec.protocol ?? 'cannelloni';
            (this.portsByProtocol[protocol] ??= []).push(port);
            if (protocol === 'cannelloni') this.ports.push(port);
          }
          if (rec.event === 'ready') {
            clearTimeout(timer);
            if (this.ports.length === buses) resolve();
            else reject(new Error(`expected ${buses} listeners, the bridge logged ${this.ports.length}`));
          }
        }
      });
      this.child.once('exit', (code) => reject(new Error(`the bridge exited with ${code} before it was ready:\n${this.log}`)));
    });
  }

  snapshot(): Promise<Snapshot> {
    return this.control!.snapshot();
  }

  /** CPU seconds used so far, user and kernel. */
  cpuTimes(): { user: number; system: number } {
    return cpuTimes(this.pid);
  }

  peakRssBytes(): number {
    return peakRssBytes(this.pid);
  }

  /** SIGTERM, then SIGKILL after 5 s; returns the exit code. */
  async stop(): Promise<number | null> {
    this.control?.close();
    this.control = null;
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}
