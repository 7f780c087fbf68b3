// `ampio-bridge capture stats|query|export`: reads the capture store, also while the
// bridge is writing it ("what happened on the bus at 02:14?").
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, type CanFrame } from '../../core/frame.js';
import type { CapturedFrame } from '../../capture/schema.js';
import { loadSqlite } from '../../capture/sqlite-binding.js';
import { captureRow } from '../../capture/frame-row.js';
import { CaptureStore } from '../../capture/sqlite-store.js';
import { busStats, type FrameFilter, queryFrames } from '../../capture/store-query.js';
import { humanAge, humanBytes } from '../../capture/units.js';
import { describeCapture } from '../../control/describe-capture.js';
import { type CliContext, EXIT } from '../context.js';
import { askDaemonCapture, type DaemonCapture } from '../daemon-capture.js';
import { asDamage, damageSeenByDaemon } from './capture-output.js';
import { reportUnknownFlags } from '../flags.js';
import { DEFAULT_STORE, FILTER_FLAGS, filterFrom, storePath } from './capture-filter.js';

export { filterFrom, storePath };

const SUBCOMMANDS = ['stats', 'query', 'recover'] as const;

const FLAGS = {
  ...FILTER_FLAGS,
  'control-socket': { type: 'string' },
  json: { type: 'boolean' },
  decode: { type: 'boolean' },
  'ampio-config': { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CAPTURE_HELP = `Usage: ampio-bridge capture <stats|query|export|import|live|replay|recover> [flags]

Reads the frame store that \`serve --capture PATH\` keeps (safe while the bridge runs).

  stats    frames, time span, size and per-bus counts
  query    frames as a table (or --json): the newest 1000 matching, or the first 1000 from --since
  export   frames as a file: candump log (canplayer), SavvyCAN GVRET CSV, Vector ASC
           (CANalyzer, python-can), PCAPNG or PCAP (Wireshark)
  import   FILE: a candump -l log or ASC file into a store of its own (--capture NEW.db)
  live     the running bridge's frames as they happen: a candump tail, or PCAPNG for
           Wireshark (ampio-bridge capture live --format pcapng | wireshark -k -i -)
  replay   stored frames again, onto a bus through the bridge (--to-bus; every TX guard
           applies) or as a candump dry run (--to stdout). Replaying commands repeats them!
  recover  a damaged store: moves it aside (kept unchanged) and salvages what is readable
           into a new store at the same path; then: sudo systemctl reload ampio-bridge

Flags (stats, query, export, replay):
  --capture PATH      the store (default: the running bridge's, asked on its control socket;
                      else the config file's --capture; else ${DEFAULT_STORE})
  --control-socket PATH  the running bridge's control socket (default: as \`status\` finds it);
                      stats also shows what that bridge is capturing now
  --since TIME        from: an age (2h, 30m, 1d), a time of day (02:14) or a date ("2026-11-30 02:14")
  --until TIME        up to (same forms)
  --bus NAME[,NAME]   only these buses (can0, can1); live too
  --id ID[/MASK]      only this arbitration ID (hex: 0x1ABC), or ID/mask (0x1A00/0xFF00); live too
  --direction DIR     rx, tx or refused, comma-separated (export default: rx,tx)
  --limit N           at most N frames (query: default 1000; export: all; 0 = all)
  --json              query/stats: JSON instead of a table
  --decode            query: what each Ampio state broadcast means (module, values), named from
                      the house file (--ampio-config PATH, default: the bridge's setting)
  --format FORMAT     export: candump (default), gvret-csv, asc, pcapng or pcap;
                      live: candump (default) or pcapng; import: candump or asc (default: by extension)
  -o, --output FILE   export, live: write here instead of stdout

Flags (live):
  --control-socket PATH  the running bridge's control socket (default as for status)
  --count N           stop after N frames
  --duration TIME     stop after this long (10s, 5m)

Flags (import):
  --capture PATH      the store to import into (required; a new file is created)
  --bus NAME          put every imported frame on this bus (default: the log's names;
                      ASC channel N = can<N-1> unless the file names its channels)

Flags (replay):
  --to-bus BUS        send onto this bus of the running bridge (can0, or 0 = the first bus),
                      as a client on its cannelloni port: --tx-allow, --tx-ids and --tx-rate
                      apply; refused frames are counted
  --to stdout         print the frames as a candump log instead (a dry run; nothing is sent)
  --speed S           1 (default: the recorded spacing), a factor (2 = twice as fast) or max
  -h, --help          show this help

Examples:
  ampio-bridge capture query --since 02:10 --until 02:20 --id 0x1ABC
  ampio-bridge capture export --since 2h -o bus.log && canplayer -I bus.log
  ampio-bridge capture export --since 02:10 --until 02:20 --format pcapng -o night.pcapng
  ampio-bridge capture live --id 0x1D000000/0xFF000000
  ampio-bridge capture replay --since 02:14 --until 02:15 --to stdout
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  if (values.help) {
    ctx.stdout.write(CAPTURE_HELP);
    return EXIT.ok;
  }
  const sub = positionals[0] as (typeof SUBCOMMANDS)[number] | undefined;
  // export, import, live and replay live in their own files (capture-export/live/replay.ts).
  const delegated = sub ? await delegate(sub, args, tokens, ctx) : null;
  if (delegated !== null) return delegated;
  if (reportUnknownFlags('capture', tokens, FLAGS, ctx, { maxPositionals: 1 })) return EXIT.usage;
  if (!sub || !SUBCOMMANDS.includes(sub)) {
    ctx.stderr.write(
      `ampio-bridge capture: ${sub ? `unknown subcommand "${sub}"` : 'which one?'} (stats, query, export, import, live, replay or recover; see ampio-bridge capture --help)\n`,
    );
    return EXIT.usage;
  }
  let filter: FrameFilter;
  try {
    filter = filterFrom(values as Record<string, string | boolean | undefined>, sub, Date.now());
  } catch (err) {
    ctx.stderr.write(`ampio-bridge capture: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  // The running daemon first (the store it writes, and what it is doing), the config second.
  const daemon = await askDaemonCapture({
    flag: typeof values['control-socket'] === 'string' ? values['control-socket'] : null,
    env: ctx.env,
    systemRuntimeDir: ctx.systemRuntimeDir,
  });
  const path = storePath(values.capture, ctx, daemon);
  if (sub === 'recover') return (await import('./capture-recover.js')).recover(path, ctx);
  const seen = damageSeenByDaemon(daemon, path);
  if (seen) throw seen;
  // stats reads every page anyway: it checks them all first, so damage anywhere is reported.
  // query reads only what it shows (and says so when that is damaged).
  const store = CaptureStore.open(await loadSqlite(), { path, readonly: true, check: sub === 'stats' });
  try {
    if (sub === 'stats') return stats(store, daemon, values.json === true, ctx);
    if (sub === 'query')
      return await query(store, filter, values.json === true, ctx, values.decode === true ? await decoder(values['ampio-config'], ctx) : null);
    return EXIT.usage;
  } catch (err) {
    throw asDamage(err, path);
  } finally {
    store.close();
  }
}

/** The subcommands with files of their own; null when `sub` is not one of them. */
async function delegate(sub: string, args: string[], tokens: ReadonlyArray<{ kind: string; index: number }>, ctx: CliContext): Promise<number | null> {
  if (!['export', 'import', 'live', 'replay'].includes(sub)) return null;
  const at = tokens.find((t) => t.kind === 'positional')?.index ?? 0;
  const rest = [...args.slice(0, at), ...args.slice(at + 1)];
  if (sub === 'export') return (await import('./capture-export.js')).runExport(rest, ctx);
  if (sub === 'import') return (await import('./capture-export.js')).runImport(rest, ctx);
  if (sub === 'live') return (await import('./capture-live.js')).runLive(rest, ctx);
  return (await import('./capture-replay.js')).runReplay(rest, ctx);
}

/** `--decode`: the decoder, with names from the house file when there is one (a broken file is reported and skipped). */
async function decoder(flag: string | boolean | undefined, ctx: CliContext): Promise<FrameDecoder> {
  const [{ describeFrame, houseNames }, { decodeFrame }, { parseHouseFile }] = await Promise.all([
    import('../../ampio/present.js'),
    import('../../ampio/decoder.js'),
    import('../../ampio/house-file.js'),
  ]);
  let file = typeof flag === 'string' ? flag.trim() : '';
  if (file === '') {
    const loaded = loadConfig({ argv: [], env: ctx.env, isRoot: ctx.isRoot, cwd: ctx.cwd });
    if (loaded.ok) file = loaded.config.ampioConfig;
  }
  let names: import('../../ampio/present.js').FrameNames | undefined;
  if (file !== '') {
    try {
      names = houseNames(parseHouseFile(readFileSync(file, 'utf8'), file));
    } catch (err) {
      ctx.stderr.write(`ampio-bridge capture: names not shown: ${(err as Error).message}\n`);
    }
  }
  return { text: (f) => describeFrame(f, names), json: (f) => decodeFrame(f) };
}

interface FrameDecoder {
  text(frame: CanFrame): string;
  json(frame: CanFrame): unknown;
}

function localTime(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${p(Math.round(tsUs - ms * 1000), 3)}`;
}

function stats(store: CaptureStore, daemon: DaemonCapture, json: boolean, ctx: CliContext): number {
  const s = store.summary();
  const buses = busStats(store);
  // What the running bridge does with this store now (absent: no bridge answered, or another store).
  const live = daemon.reached && daemon.capture?.path === store.path ? daemon.capture : null;
  if (json) {
    ctx.stdout.write(
      `${JSON.stringify({ path: store.path, site: s.siteId, rows: s.rows, bytes: s.bytes, oldestUs: s.oldestUs, newestUs: s.newestUs, buses, ...(daemon.reached ? { daemon: { pid: daemon.pid, capture: daemon.capture } } : {}) }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  const span =
    s.oldestUs !== null && s.newestUs !== null
      ? `${localTime(s.oldestUs)} … ${localTime(s.newestUs)} (${humanAge((s.newestUs - s.oldestUs) / 1000)})`
      : 'empty';
  const lines = [
    `store   ${store.path} (site ${s.siteId})`,
    `frames  ${s.rows}`,
    `size    ${humanBytes(s.bytes)}${s.rows > 0 ? ` (${Math.round(s.bytes / s.rows)} bytes per frame)` : ''}`,
    `span    ${span}`,
  ];
  if (live) for (const l of describeCapture(live, daemon.reached ? daemon.time : Date.now())) lines.push(`bridge  ${l.text}`);
  else if (daemon.reached)
    lines.push(`bridge  pid ${daemon.pid} ${daemon.capture ? `writes another store (${daemon.capture.path})` : 'does not capture (capture off)'}`);
  lines.push('');
  lines.push(
    table([
      ['bus', 'frames', 'rx', 'tx', 'refused', 'first', 'last', 'last seq'],
      ...buses.map((b) => [
        b.bus,
        String(b.frames),
        String(b.rx),
        String(b.tx),
        String(b.refused),
        b.firstUs === null ? '-' : localTime(b.firstUs),
        b.lastUs === null ? '-' : localTime(b.lastUs),
        String(b.lastSeq),
      ]),
    ]),
  );
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function flagText(c: CapturedFrame): string {
  const f = c.frame;
  const parts: string[] = [];
  if (f.id & CAN_EFF_FLAG) parts.push('EFF');
  if (f.id & CAN_RTR_FLAG) parts.push('RTR');
  if (f.id & CAN_ERR_FLAG) parts.push('ERR');
  if (f.fd) parts.push(f.fdFlags & 1 ? 'FD+BRS' : 'FD');
  return parts.join(',') || '-';
}

async function query(store: CaptureStore, filter: FrameFilter, json: boolean, ctx: CliContext, decode: FrameDecoder | null): Promise<number> {
  // Without --since, "the last N frames" is what people ask for; shown oldest first.
  const newest = filter.sinceUs === undefined && (filter.limit ?? 0) > 0;
  const frames = [...queryFrames(store, { ...filter, newestFirst: newest })];
  if (newest) frames.reverse();
  if (json) {
    const rows = frames.map((c) => ({ ...captureRow(c), ...(decode ? { decoded: decode.json(c.frame) } : {}) }));
    ctx.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
    return EXIT.ok;
  }
  if (frames.length === 0) {
    ctx.stdout.write('no frames match\n');
    return EXIT.ok;
  }
  const rows = frames.map((c) => {
    const id = c.frame.id & (c.frame.id & (CAN_EFF_FLAG | CAN_ERR_FLAG) ? 0x1fffffff : 0x7ff);
    const idText = id
      .toString(16)
      .toUpperCase()
      .padStart(c.frame.id & (CAN_EFF_FLAG | CAN_ERR_FLAG) ? 8 : 3, '0');
    const data = Array.from(c.frame.data, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    // An rx row has a label only when imported (`imported:<file>`).
    const origin = c.direction === 'rx' ? (c.label ?? '') : `${c.label ?? ''}${c.session ? ` #${c.session}` : ''}`;
    const row = [localTime(c.tsUs), c.bus, String(c.seq), c.direction, idText, flagText(c), String(c.frame.len), data, origin];
    return decode ? [...row, decode.text(c.frame)] : row;
  });
  const header = ['time', 'bus', 'seq', 'dir', 'id', 'flags', 'len', 'data', 'origin', ...(decode ? ['meaning'] : [])];
  ctx.stdout.write(`${table([header, ...rows])}\n`);
  if (filter.limit && frames.length === filter.limit) ctx.stdout.write(`(${newest ? 'last' : 'first'} ${filter.limit} frames; --limit 0 shows all)\n`);
  return EXIT.ok;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
