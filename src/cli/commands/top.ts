// `ampio-bridge top`: the live monitor. This shim parses flags and answers the one-shot
// cases (--help, usage errors, --json or no terminal) without loading React or Ink; only an
// interactive or --once run imports tui/, lazily, so `serve` and scripts never pay for it.
import { parseArgs } from 'node:util';
import {
  checkSocketDir,
  ControlClient,
  ControlUnavailableError,
  connectOptionsFor,
  resolveControlSocket,
  type ResolvedSocketPath,
} from '../../control/control-client.js';
import { STREAM_INTERVAL_MAX_MS, STREAM_INTERVAL_MIN_MS } from '../../control/protocol.js';
import { formatDuration, OptionValueError, parseDuration } from '../../config/options.js';
import { type CliContext, EXIT } from '../context.js';
import { reportUnknownFlags } from '../flags.js';

export const DEFAULT_INTERVAL_MS = 1000;

const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[2J\u001B[H';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';

const OPTIONS = {
  interval: { type: 'string' },
  'control-socket': { type: 'string' },
  json: { type: 'boolean' },
  once: { type: 'boolean' },
  modules: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TOP_HELP = `Usage: ampio-bridge top [flags]

Live monitor of the running bridge: buses (state, load, frame rates, errors), clients
(rates, queues, drops), totals and recent events. Reads only the control socket.

Flags:
  --interval <duration>   refresh interval, e.g. 1s, 500ms or 2 (seconds); ${formatDuration(STREAM_INTERVAL_MIN_MS)}..${formatDuration(STREAM_INTERVAL_MAX_MS)} (default 1s)
  --control-socket <path> the daemon's control socket (default: $AMPIO_BRIDGE_CONTROL_SOCKET,
                          else /run/ampio-bridge/control.sock when the service runs,
                          else the one serve uses for this user)
  --once                  render one screen as text and exit (for scripts and docs;
                          size from COLUMNS/LINES when not a terminal)
  --modules               start in the Ampio modules view (key m switches views)
  --json                  print one snapshot as JSON and exit (also when stdout is not a terminal)
  -h, --help              show this help

Keys: q quit · ↑↓/j k select · K kick (y confirms) · s/S sort · p pause · m modules · ? help
NO_COLOR=1 turns colours off. Exit codes: 0 ok, 2 bad flags, 3 bridge not reachable (--json/--once).
`;

/** `1s`, `500ms`, or a bare number of seconds like top(1)'s `-d 2`. */
export function parseInterval(raw: string): number {
  const ms = parseDuration(raw);
  if (ms < STREAM_INTERVAL_MIN_MS || ms > STREAM_INTERVAL_MAX_MS) {
    throw new OptionValueError(`${formatDuration(ms)} is outside ${formatDuration(STREAM_INTERVAL_MIN_MS)}..${formatDuration(STREAM_INTERVAL_MAX_MS)}`);
  }
  return ms;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('top', tokens, OPTIONS, ctx)) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write(TOP_HELP);
    return EXIT.ok;
  }
  let intervalMs = DEFAULT_INTERVAL_MS;
  if (typeof values.interval === 'string') {
    try {
      intervalMs = parseInterval(values.interval);
    } catch (err) {
      ctx.stderr.write(`ampio-bridge top: --interval: ${(err as Error).message} (expected a duration like 1s or 500ms)\n`);
      return EXIT.usage;
    }
  }
  const socket = resolveControlSocket({
    flag: typeof values['control-socket'] === 'string' ? values['control-socket'] : null,
    env: ctx.env,
    role: 'client',
    systemRuntimeDir: ctx.systemRuntimeDir,
  });
  const socketPath = socket.path;

  if (values.json || (!values.once && !ctx.isTTY)) return printJson(socket, ctx);
  const unsafe = await checkSocketDir(socket);
  if (unsafe) {
    ctx.stderr.write(`ampio-bridge top: ${unsafe.message}\n`);
    return EXIT.notRunning;
  }

  // Loading React and Ink takes a noticeable moment on a Pi: paint a first line in the
  // alternate screen at once, so `top` never looks hung. tui/ clears it with its first frame.
  const interactive = values.once !== true;
  if (interactive) ctx.stdout.write(`${ENTER_ALT_SCREEN}ampio-bridge top: connecting to the bridge at ${socketPath}…`);
  let runTop: typeof import('../../../tui/index.js').runTop;
  // React picks its build when first loaded: without this it runs the development build,
  // which costs a Pi several times the CPU and memory. An explicit NODE_ENV is respected.
  process.env.NODE_ENV ??= 'production';
  try {
    ({ runTop } = await import('../../../tui/index.js'));
  } catch (err) {
    if (interactive) ctx.stdout.write(LEAVE_ALT_SCREEN);
    throw err;
  }
  return runTop({ socketPath, intervalMs, once: !interactive, modules: values.modules === true }, ctx);
}

async function printJson(socket: ResolvedSocketPath, ctx: CliContext): Promise<number> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(socket.path, connectOptionsFor(socket));
  } catch (err) {
    if (err instanceof ControlUnavailableError) {
      ctx.stderr.write(`ampio-bridge top: ${err.message}\n`);
      return EXIT.notRunning;
    }
    throw err;
  }
  try {
    const snapshot = await client.snapshot();
    ctx.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    ctx.stderr.write(`ampio-bridge top: ${(err as Error).message}\n`);
    return EXIT.failure;
  } finally {
    client.close();
  }
}
