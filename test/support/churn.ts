// Connect/close churn against a bridge process: what issue 22 measured (RSS 79 → 835 MB with
// no client left, a heap OOM after ~15,000 connections) as a loop the conformance suite and
// the benchmark (test/bench/churn.ts) share. A cycle connects, optionally sends the
// protocol's negotiation, and closes with a FIN (end: the bridge must close its side, which
// is how the cycle ends) or an RST (resetAndDestroy, often before the bridge accepted).
// Memory is read from the process: RSS from /proc/<pid>/status, the heap over the control
// socket right after a full GC (gc-on-signal.ts, SIGUSR2).
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BridgeChild, REPO } from './bridge-child.js';

export type CloseKind = 'fin' | 'rst';

export interface ChurnOptions {
  port: number;
  /** Bytes sent after connecting (the protocol's negotiation); null = none. */
  hello: Buffer | null;
  close: CloseKind;
  cycles: number;
  /** Connections in flight at once (default 16). */
  concurrency?: number;
  /** How long a FIN cycle waits for the bridge to close its side (default 3 s). */
  finWaitMs?: number;
  /** Source addresses to rotate through (default 127.0.0.1): one host, as in the issue. */
  localAddresses?: string[];
}

export interface ChurnResult {
  cycles: number;
  /** FIN cycles the bridge did not close within finWaitMs: each one a ghost in the making. */
  lingered: number;
  /** Connections that failed to connect at all. */
  failed: number;
  ms: number;
}

type Outcome = 'ok' | 'lingered' | 'failed';

function cycle(o: ChurnOptions, localAddress: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ port: o.port, host: '127.0.0.1', localAddress });
    let connected = false;
    let done = false;
    const finish = (r: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('lingered'), o.finWaitMs ?? 3000);
    // What the bridge says is read and discarded: unread bytes would turn our FIN into an RST.
    s.on('data', () => {});
    s.on('error', () => finish(connected ? 'ok' : 'failed'));
    s.once('close', () => finish(connected ? 'ok' : 'failed'));
    s.once('connect', () => {
      connected = true;
      if (o.hello) s.write(o.hello);
      if (o.close === 'rst') {
        s.resetAndDestroy();
        finish('ok');
      } else {
        s.end();
      }
    });
  });
}

export async function churn(o: ChurnOptions): Promise<ChurnResult> {
  const started = performance.now();
  const addresses = o.localAddresses ?? [undefined as unknown as string];
  let next = 0;
  let lingered = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < o.cycles) {
      const n = next++;
      const r = await cycle(o, addresses[n % addresses.length]);
      if (r === 'lingered') lingered++;
      else if (r === 'failed') failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 16, o.cycles) }, worker));
  return { cycles: o.cycles, lingered, failed, ms: performance.now() - started };
}

/** node flags for a bridge child whose heap the churn measures: SIGUSR2 = a full GC. */
export function measurableNodeArgs(maxOldSpaceMb?: number): string[] {
  return ['--expose-gc', '--import', path.join(REPO, 'dist/test/support/gc-on-signal.js'), ...(maxOldSpaceMb ? [`--max-old-space-size=${maxOldSpaceMb}`] : [])];
}

export interface MemoryReading {
  /** VmRSS from /proc/<pid>/status. */
  rss: number;
  /** heapUsed after a full GC, over the control socket. */
  heap: number;
  fds: number;
}

/** Collects garbage in the bridge (two full GCs), then reads its memory. */
export async function readMemory(b: BridgeChild): Promise<MemoryReading> {
  for (let k = 0; k < 2; k++) {
    process.kill(b.pid, 'SIGUSR2');
    await sleep(150);
  }
  const snap = await b.snapshot();
  // Read RSS after the snapshot (whose own garbage is small) and after the GC gave pages back.
  return { rss: b.rssBytes(), heap: snap.daemon.memory?.heapUsed ?? Number.NaN, fds: b.openFds() };
}

export const MB = 1024 * 1024;
export const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
