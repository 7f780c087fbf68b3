// `ampio-bridge capture replay`: stored frames again, with their recorded spacing (or
// faster), either onto a bus of the running bridge or as a candump log on stdout (a dry
// run). Onto a bus, the replay is a client of the bridge's own cannelloni port: its frames
// take the same TX path as any client's, so --tx-allow, --tx-ids and --tx-rate refuse
// them as they would refuse a client's, and the bridge counts each refusal; the replay
// reads those counts back from the control socket and reports them.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { candumpLine } from '../../capture/formats/candump.js';
import { parseSpeed, ReplayClock, type ReplaySpeed } from '../../capture/replay-clock.js';
import type { CapturedFrame } from '../../capture/schema.js';
import { loadSqlite } from '../../capture/sqlite-binding.js';
import { CaptureStore } from '../../capture/sqlite-store.js';
import { type FrameFilter, queryFrames } from '../../capture/store-query.js';
import type { ControlClient } from '../../control/control-client.js';
import type { ClientSnapshot, Snapshot } from '../../control/protocol.js';
import { CAN_ERR_FLAG } from '../../core/frame.js';
import { CANNELLONI_HELLO, encodeFrame, HELLO_LENGTH } from '../../protocols/cannelloni/codec.js';
import { type CliContext, EXIT } from '../context.js';
import { reportUnknownFlags } from '../flags.js';
import { FILTER_FLAGS, filterFrom, storePath } from './capture-filter.js';
import { connectDaemon } from './capture-live.js';

const FLAGS = {
  ...FILTER_FLAGS,
  speed: { type: 'string' },
  'to-bus': { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string' },
  'control-socket': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ReplayReport {
  /** Frames read from the store and sent (or printed). */
  sent: number;
  /** Error frames: a client cannot put one on a bus. */
  skipped: number;
  /** From the bridge (--to-bus): frames it took from the replay, and those its TX guard refused, by reason. */
  accepted?: number;
  refused?: Record<string, number>;
}

export async function runReplay(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('capture replay', tokens, FLAGS, ctx)) return EXIT.usage;
  const usage = (msg: string): number => {
    ctx.stderr.write(`ampio-bridge capture replay: ${msg}\n`);
    return EXIT.usage;
  };
  const toBus = typeof values['to-bus'] === 'string' ? values['to-bus'] : null;
  const to = typeof values.to === 'string' ? values.to : null;
  if ((toBus === null) === (to === null)) return usage('where to? --to-bus NAME (through the running bridge) or --to stdout (a dry run)');
  if (to !== null && to !== 'stdout') return usage(`--to "${to}": only stdout (a dry run); onto a bus use --to-bus NAME`);
  if (values.format !== undefined && values.format !== 'candump') return usage('--format: a dry run prints candump (the only --format here)');
  let filter: FrameFilter;
  let speed: ReplaySpeed = 1;
  try {
    filter = filterFrom(values as Record<string, string | boolean | undefined>, 'export', Date.now());
    if (typeof values.speed === 'string') speed = parseSpeed(values.speed);
  } catch (err) {
    return usage((err as Error).message);
  }
  if (filter.sinceUs === undefined && filter.limit === undefined)
    return usage('which window? give --since (and --until), or --limit: a replay of the whole store is never a default');
  const store = CaptureStore.open(await loadSqlite(), { path: storePath(values.capture, ctx), readonly: true });
  try {
    const rows = queryFrames(store, filter);
    if (to === 'stdout') {
      const r = await replayTo(rows, speed, ctx, (c) => void ctx.stdout.write(`${candumpLine(c)}\n`));
      ctx.stderr.write(`dry run: ${r.sent} frames${r.skipped > 0 ? ` (${r.skipped} error frames left out: they cannot be sent)` : ''}; nothing was sent\n`);
      return EXIT.ok;
    }
    return await replayOntoBus(rows, speed, toBus as string, typeof values['control-socket'] === 'string' ? values['control-socket'] : null, ctx);
  } finally {
    store.close();
  }
}

/** Paces `rows` and hands each sendable one to `emit`. */
async function replayTo(
  rows: Iterable<CapturedFrame>,
  speed: ReplaySpeed,
  ctx: CliContext,
  emit: (c: CapturedFrame) => void | Promise<void>,
): Promise<ReplayReport> {
  const clock = new ReplayClock(speed);
  let stop = false;
  const offs = [ctx.signals.on('SIGINT', () => (stop = true)), ctx.signals.on('SIGTERM', () => (stop = true))];
  let sent = 0;
  let skipped = 0;
  try {
    for (const c of rows) {
      if (stop) break;
      if (c.frame.id & CAN_ERR_FLAG) {
        skipped++;
        continue;
      }
      await clock.waitFor(c.tsUs);
      await emit(c);
      sent++;
    }
  } finally {
    for (const off of offs) off();
  }
  return { sent, skipped };
}

async function replayOntoBus(rows: Iterable<CapturedFrame>, speed: ReplaySpeed, busName: string, socketFlag: string | null, ctx: CliContext): Promise<number> {
  let control: ControlClient;
  try {
    control = await connectDaemon(ctx, socketFlag);
  } catch (err) {
    ctx.stderr.write(`ampio-bridge capture replay: ${(err as Error).message} (--to-bus sends through the running bridge)\n`);
    return EXIT.notRunning;
  }
  try {
    const snap = await control.snapshot();
    // A bus by name (can1) or by number (1 = the second bus, as ASC channel 2 and GVRET bus 1).
    if (/^\d+$/.test(busName) && !snap.buses.some((b) => b.name === busName)) busName = snap.buses[Number(busName)]?.name ?? busName;
    const listener = snap.daemon.listeners.find((l) => l.protocol === 'cannelloni' && l.bus === busName);
    if (!listener) {
      ctx.stderr.write(
        `ampio-bridge capture replay: the bridge has no cannelloni port for bus "${busName}" (its buses: ${snap.buses.map((b) => b.name).join(', ')}; replay needs --listen)\n`,
      );
      return EXIT.usage;
    }
    const socket = await connectCannelloni(listener.address);
    const me = `:${socket.localPort}`;
    ctx.stderr.write(`replaying onto ${busName} through the bridge (${listener.address}): the commands in these frames run again on the house\n`);
    const r = await replayTo(rows, speed, ctx, async (c) => {
      if (!socket.write(encodeFrame({ ...c.frame, timestamp: 0 }))) await new Promise((resolve) => socket.once('drain', resolve));
    });
    // The bridge reads what was written before it counts: wait until it has seen every frame.
    const mine = (s: Snapshot): ClientSnapshot | undefined => s.clients.find((c) => c.protocol === 'cannelloni' && c.remote.endsWith(me));
    let last: ClientSnapshot | undefined;
    for (let i = 0; i < 100; i++) {
      last = mine(await control.snapshot());
      if (!last || last.framesIn >= r.sent) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    socket.end();
    const refused: Record<string, number> = last?.txRefused ?? {};
    const refusedTotal = Object.values(refused).reduce((a, b) => a + b, 0);
    const reasons = Object.entries(refused)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    ctx.stderr.write(
      `${r.sent} frames replayed onto ${busName}; the bridge took ${last ? last.framesIn - refusedTotal : '?'} and its TX guard refused ${refusedTotal}${reasons ? ` (${reasons})` : ''}${r.skipped > 0 ? `; ${r.skipped} error frames left out` : ''}\n`,
    );
    if (last?.readOnly) ctx.stderr.write("ampio-bridge capture replay: this host is outside the bridge's --tx-allow: nothing was sent to the bus\n");
    return refusedTotal > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    control.close();
  }
}

/** A cannelloni client connection (both sides send the 12-byte hello); bus frames it receives are read and dropped. */
function connectCannelloni(address: string): Promise<net.Socket> {
  const at = address.lastIndexOf(':');
  let host = address.slice(0, at).replace(/^\[|\]$/g, '');
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const port = Number(address.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port, noDelay: true });
    let got = 0;
    const fail = (err: Error): void => reject(err);
    socket.once('error', fail);
    socket.once('connect', () => socket.write(CANNELLONI_HELLO));
    socket.on('data', (d: Buffer) => {
      // Bus frames to this client are not the replay's business: read so the bridge never sees it as slow.
      if (got >= HELLO_LENGTH) return;
      got += d.length;
      if (got >= HELLO_LENGTH) {
        socket.off('error', fail);
        socket.on('error', () => {});
        resolve(socket);
      }
    });
    socket.once('close', () => reject(new Error(`the bridge closed the cannelloni connection to ${address} during the hello`)));
  });
}
