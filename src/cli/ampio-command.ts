// What `ampio-bridge modules` and `ampio-bridge state` share: flags, connecting to the
// daemon's control socket, one reading or `--watch` (a fresh screen every interval on a
// terminal; with --json one JSON document per line), and the exit codes of `status`.
import { parseArgs } from 'node:util';
import { ControlClient, ControlUnavailableError, connectOptionsFor, resolveControlSocket } from '../control/control-client.js';
import { type CliContext, EXIT } from './context.js';
import { parseDurationFlag, reportUnknownFlags } from './flags.js';

export const AMPIO_COMMAND_OPTIONS = {
  json: { type: 'boolean' },
  watch: { type: 'boolean', short: 'w' },
  interval: { type: 'string' },
  'control-socket': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const AMPIO_COMMAND_FLAGS_HELP = `Flags:
  --json                  JSON instead of a table (stable keys; with --watch one document per line)
  -w, --watch             read again every --interval until Ctrl-C
  --interval <duration>   how often --watch reads, e.g. 1s or 500ms (default 1s)
  --control-socket <path> the daemon's control socket (default: as for \`status\`)
  --timeout <duration>    how long to wait for the daemon (default 3s)
  -h, --help              show this help

Exit codes: 0 ok, 1 the daemon answered with an error (e.g. serve runs with --ampio=false),
2 bad flags, 3 bridge not reachable.
`;

export interface AmpioCommandSpec<T> {
  name: string;
  help: string;
  /** Bare words the command takes (state: one filter). */
  maxPositionals: number;
  read(client: ControlClient, positionals: string[]): Promise<T>;
  json(reading: T): unknown;
  text(reading: T, now: number): string;
}

const CLEAR = '\u001b[H\u001b[2J';

export async function runAmpioCommand<T>(spec: AmpioCommandSpec<T>, args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens, positionals } = parseArgs({ args, options: AMPIO_COMMAND_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags(spec.name, tokens, AMPIO_COMMAND_OPTIONS, ctx, { maxPositionals: spec.maxPositionals })) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write(spec.help);
    return EXIT.ok;
  }
  let timeoutMs = 3000;
  let intervalMs = 1000;
  if (typeof values.timeout === 'string') {
    const parsed = parseDurationFlag(spec.name, 'timeout', values.timeout, { min: 100, max: 600_000, example: '3s or 500ms' }, ctx);
    if (parsed === null) return EXIT.usage;
    timeoutMs = parsed;
  }
  if (typeof values.interval === 'string') {
    const parsed = parseDurationFlag(spec.name, 'interval', values.interval, { min: 100, max: 3_600_000, example: '1s or 500ms' }, ctx);
    if (parsed === null) return EXIT.usage;
    intervalMs = parsed;
  }
  const socket = resolveControlSocket({ flag: typeof values['control-socket'] === 'string' ? values['control-socket'] : null, env: ctx.env, role: 'client', systemRuntimeDir: ctx.systemRuntimeDir });
  let client: ControlClient;
  try {
    client = await ControlClient.connect(socket.path, connectOptionsFor(socket, { timeoutMs }));
  } catch (err) {
    if (err instanceof ControlUnavailableError) {
      ctx.stderr.write(`ampio-bridge ${spec.name}: ${err.message}\n`);
      return EXIT.notRunning;
    }
    throw err;
  }
  let stopped = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  const unsubscribe = values.watch ? [ctx.signals.on('SIGINT', stop), ctx.signals.on('SIGTERM', stop)] : [];
  try {
    for (;;) {
      let reading: T;
      try {
        reading = await spec.read(client, positionals);
      } catch (err) {
        ctx.stderr.write(`ampio-bridge ${spec.name}: ${(err as Error).message}\n`);
        return EXIT.failure;
      }
      if (values.json) ctx.stdout.write(values.watch ? `${JSON.stringify(spec.json(reading))}\n` : `${JSON.stringify(spec.json(reading), null, 2)}\n`);
      else ctx.stdout.write(`${values.watch && ctx.isTTY ? CLEAR : ''}${spec.text(reading, Date.now())}${values.watch && !ctx.isTTY ? '\n' : ''}`);
      if (!values.watch || stopped) return EXIT.ok;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) return EXIT.ok;
    }
  } finally {
    for (const u of unsubscribe) u();
    client.close();
  }
}
