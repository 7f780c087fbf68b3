// `ampio-bridge capture live`: the running bridge's frames as they happen, from its control
// socket: a candump-style tail (`-L` form with R/T markers) or a PCAPNG stream for
// `| wireshark -k -i -` / `| tshark -i -`. The Wireshark extcap uses the same stream.
// A reader slower than the bus never holds the bridge: this process stops reading the
// socket while its output is full, and the bridge counts the frames it then drops.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createEncoder } from '../../capture/formats/index.js';
import type { ExportFrame } from '../../capture/formats/types.js';
import { parseIdFilter } from '../../capture/store-query.js';
import { parseAge } from '../../config/options.js';
import { type ControlClient, ControlUnavailableError } from '../../control/control-client.js';
import { frameOfLive } from '../../control/frame-stream.js';
import type { FramesMessage, FramesRequest, Snapshot } from '../../control/protocol.js';
import { type CliContext, EXIT } from '../context.js';
import { connectDaemon } from '../daemon-connect.js';
import { reportUnknownFlags } from '../flags.js';

/** Bytes this process lets its output hold before it stops reading the bridge. */
const OUTPUT_BOUND = 4 * 1024 * 1024;

export { connectDaemon };

/** One snapshot of the running bridge, or null when none answers. */
export async function askDaemon(ctx: CliContext, _req: { type: 'snapshot' }, socketFlag: string | null = null): Promise<Snapshot | null> {
  let client: ControlClient;
  try {
    client = await connectDaemon(ctx, socketFlag, 1000);
  } catch {
    return null;
  }
  try {
    return await client.snapshot();
  } finally {
    client.close();
  }
}

export interface LiveOptions {
  format: 'candump' | 'pcapng';
  filter: FramesRequest;
  out: Writable;
  /** Stop after this many frames / this many ms (0 = never). */
  count?: number;
  durationMs?: number;
  socketFlag: string | null;
}

export interface LiveResult {
  frames: number;
  /** Frames the bridge did not send because this reader fell behind. */
  dropped: number;
  /** Why it ended. */
  ended: 'signal' | 'count' | 'duration' | 'output_closed' | 'bridge_closed';
}

/** Streams live frames into `out` until a signal, the count or duration, or either end closes. */
export async function streamLive(ctx: CliContext, o: LiveOptions): Promise<LiveResult> {
  const client = await connectDaemon(ctx, o.socketFlag);
  let frames = 0;
  let dropped = 0;
  return new Promise<LiveResult>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const offs: Array<() => void> = [];
    const finish = (ended: LiveResult['ended']): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      for (const off of offs) off();
      client.close();
      resolve({ frames, dropped, ended });
    };
    offs.push(
      ctx.signals.on('SIGINT', () => finish('signal')),
      ctx.signals.on('SIGTERM', () => finish('signal')),
    );
    const onOutClose = (): void => finish('output_closed');
    // EPIPE when the reader (tshark, head) exits: the end of the stream, not a crash.
    const onOutError = (): void => finish('output_closed');
    o.out.on('close', onOutClose);
    o.out.on('error', onOutError);
    offs.push(() => {
      o.out.off('close', onOutClose);
      o.out.off('error', onOutError);
    });
    client.on('close', () => finish('bridge_closed'));
    if (o.durationMs && o.durationMs > 0) timer = setTimeout(() => finish('duration'), o.durationMs);
    let names: string[] = [];
    let encoder: ReturnType<typeof createEncoder> | null = null;
    client.on('frames', (msg: FramesMessage) => {
      if (done || !encoder) return;
      dropped = msg.dropped;
      for (const f of msg.frames) {
        const row: ExportFrame = { bus: names[f[0]] ?? `bus${f[0]}`, tsUs: f[1], frame: frameOfLive(f), direction: f[3] === 1 ? 'tx' : 'rx' };
        encoder.add(row);
        frames++;
        if (o.count && frames >= o.count) break;
      }
      write(encoder.take());
      if (o.count && frames >= o.count) finish('count');
    });
    const write = (bytes: Buffer): void => {
      if (bytes.length === 0 || o.out.destroyed) return;
      o.out.write(bytes);
      if (o.out.writableLength > OUTPUT_BOUND) {
        client.pause();
        o.out.once('drain', () => client.resume());
      }
    };
    client
      .frames(o.filter)
      .then((r) => {
        names = r.buses;
        const wanted = o.filter.buses && o.filter.buses.length > 0 ? o.filter.buses : names;
        encoder = createEncoder(o.format, { buses: wanted });
        // PCAPNG's header right away: Wireshark shows the interfaces before the first frame.
        write(encoder.take());
      })
      .catch((err) => {
        finish('bridge_closed');
        reject(err);
      });
  });
}

const FLAGS = {
  format: { type: 'string' },
  bus: { type: 'string' },
  id: { type: 'string' },
  'control-socket': { type: 'string' },
  count: { type: 'string' },
  duration: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runLive(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('capture live', tokens, FLAGS, ctx)) return EXIT.usage;
  const format = typeof values.format === 'string' ? values.format : 'candump';
  if (format !== 'candump' && format !== 'pcapng') {
    ctx.stderr.write(`ampio-bridge capture live: --format "${format}" is not candump or pcapng\n`);
    return EXIT.usage;
  }
  let filter: FramesRequest;
  let count = 0;
  let durationMs = 0;
  try {
    filter = liveFilter(values.bus, values.id);
    if (typeof values.count === 'string') {
      if (!/^\d+$/.test(values.count)) throw new Error(`--count "${values.count}" is not a whole number`);
      count = Number(values.count);
    }
    if (typeof values.duration === 'string') durationMs = parseAge(values.duration);
  } catch (err) {
    ctx.stderr.write(`ampio-bridge capture live: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  if (format === 'pcapng' && typeof values.output !== 'string' && ctx.isTTY) {
    ctx.stderr.write('ampio-bridge capture live: PCAPNG is binary: pipe it into Wireshark (| wireshark -k -i -) or give -o FILE\n');
    return EXIT.usage;
  }
  const out: Writable = typeof values.output === 'string' ? createWriteStream(values.output) : ctx.stdout;
  let r: LiveResult;
  try {
    r = await streamLive(ctx, {
      format,
      filter,
      out,
      count,
      durationMs,
      socketFlag: typeof values['control-socket'] === 'string' ? values['control-socket'] : null,
    });
  } catch (err) {
    const hint = err instanceof ControlUnavailableError ? ' (is the bridge running? capture live reads from the running bridge)' : '';
    ctx.stderr.write(`ampio-bridge capture live: ${(err as Error).message}${hint}\n`);
    return err instanceof ControlUnavailableError ? EXIT.notRunning : EXIT.failure;
  }
  if (out !== ctx.stdout) out.end();
  ctx.stderr.write(`${r.frames} frames${r.dropped > 0 ? `, ${r.dropped} dropped because the reader was slower than the bus` : ''}\n`);
  if (r.ended === 'bridge_closed') {
    ctx.stderr.write('ampio-bridge capture live: the bridge closed the connection (stopped or restarted)\n');
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** --bus and --id as the daemon's `frames` request takes them. */
export function liveFilter(bus: unknown, id: unknown): FramesRequest {
  const filter: FramesRequest = {};
  if (typeof bus === 'string')
    filter.buses = bus
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (typeof id === 'string') {
    const f = parseIdFilter(id);
    filter.idValue = f.value;
    filter.idMask = f.mask;
  }
  return filter;
}
