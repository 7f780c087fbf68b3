// Entry of `ampio-bridge top` once the CLI shim has parsed the flags: either one frame as
// text (--once) or the live, full-screen monitor. The only place React and Ink are loaded.

import { render, renderToString } from 'ink';
import type { Readable, Writable } from 'node:stream';
import { ControlClient, ControlUnavailableError } from '../src/control/control-client.js';
import type { Snapshot } from '../src/control/protocol.js';
import { App } from './App.js';
import { Screen } from './components/Screen.js';
import { clientRates, previousClients, sortClients } from './format.js';
import { ThemeContext } from './hooks/use-theme.js';
import { daemonStream, type StreamItem } from './source/daemon-stream.js';
import { themeFor } from './theme.js';
import type { ConnectionView } from './view.js';

export interface TopOptions {
  socketPath: string;
  intervalMs: number;
  once: boolean;
  /** Start in (or, with --once, render) the Ampio modules view. */
  modules?: boolean;
}

type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The slice of the CLI context `top` uses (tui/ does not import src/cli). */
export interface TopIo {
  env: Record<string, string | undefined>;
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
  stdin: Readable;
  signals?: { on(signal: Signal, handler: (signal: Signal) => void): () => void };
}

/** Same exit code as `status` when the daemon is not reachable. */
const EXIT_NOT_RUNNING = 3;

// xterm's alternate screen: the monitor does not scroll the shell's history away, and
// quitting puts back exactly what was on the terminal before.
const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[2J\u001B[H';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

export async function runTop(opts: TopOptions, io: TopIo): Promise<number> {
  const theme = themeFor(io.env);
  return opts.once ? renderOnce(opts, io, theme) : runInteractive(opts, io, theme);
}

// ---------------------------------------------------------------- --once

function sizeOf(io: TopIo): { columns: number; rows: number } {
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : undefined);
  return {
    columns: (io.stdout.isTTY ? io.stdout.columns : undefined) ?? num(io.env.COLUMNS) ?? 80,
    rows: (io.stdout.isTTY ? io.stdout.rows : undefined) ?? num(io.env.LINES) ?? 24,
  };
}

async function renderOnce(opts: TopOptions, io: TopIo, theme: ReturnType<typeof themeFor>): Promise<number> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(opts.socketPath);
  } catch (err) {
    if (err instanceof ControlUnavailableError) {
      io.stderr.write(`ampio-bridge top: ${err.message}\n`);
      return EXIT_NOT_RUNNING;
    }
    throw err;
  }
  let first: Snapshot;
  let second: Snapshot | null = null;
  try {
    first = await client.snapshot();
    // Per-client rates need two readings; wait one interval (at most 2 s) when there are clients.
    if (first.clients.length > 0) {
      await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs, 2000)));
      second = await client.snapshot();
    }
  } catch (err) {
    io.stderr.write(`ampio-bridge top: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
  const snapshot = second ?? first;
  const previous = second ? first : null;
  const rates = clientRates(previous, snapshot);
  const { columns, rows } = sizeOf(io);
  const connection: ConnectionView = { phase: 'live', socketPath: opts.socketPath, attempt: 1, retryInMs: null, reason: null, detail: null };
  const text = renderToString(
    <ThemeContext.Provider value={theme}>
      <Screen
        columns={columns}
        rows={rows}
        connection={connection}
        snapshot={snapshot}
        clients={sortClients(snapshot.clients, 'id', false, rates)}
        rates={rates}
        previous={previousClients(previous)}
        events={[]}
        selectedId={null}
        scrollTop={0}
        sortKey="id"
        sortDescending={false}
        paused={false}
        showHelp={false}
        confirmKick={null}
        message={null}
        interactive={false}
        intervalMs={opts.intervalMs}
        view={opts.modules ? 'modules' : 'clients'}
      />
    </ThemeContext.Provider>,
    { columns },
  );
  io.stdout.write(`${text.replace(/[ \t]+$/gm, '')}\n`);
  return 0;
}

// ---------------------------------------------------------------- interactive

async function runInteractive(opts: TopOptions, io: TopIo, theme: ReturnType<typeof themeFor>): Promise<number> {
  // Stable identity: the hook restarts the stream only if this function changes.
  const source = (signal: AbortSignal): AsyncIterable<StreamItem> =>
    daemonStream({ socketPath: opts.socketPath, intervalMs: opts.intervalMs, signal });

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    io.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  };
  // A last resort if something ends the process under us: never leave the terminal in the alternate screen.
  process.once('exit', restore);
  io.stdout.write(ENTER_ALT_SCREEN);

  const instance = render(
    <ThemeContext.Provider value={theme}>
      <App socketPath={opts.socketPath} intervalMs={opts.intervalMs} source={source} initialView={opts.modules ? 'modules' : 'clients'} />
    </ThemeContext.Provider>,
    {
      stdout: io.stdout as NodeJS.WriteStream,
      stdin: io.stdin as NodeJS.ReadStream,
      stderr: io.stderr as NodeJS.WriteStream,
      // q and Ctrl-C go through the app so the stream is aborted and the screen restored the same way.
      exitOnCtrlC: false,
      patchConsole: false,
      // Data changes once per interval; keys need no more than this to feel instant.
      maxFps: 15,
      // Ink 6.8's incremental mode moves the cursor one line short when the frame ends in a
      // newline (our frame is one line shorter than the terminal), leaving the first frame's
      // top line on screen. The standard mode rewrites the frame inside a synchronized update.
      incrementalRendering: false,
    },
  );
  const unsubscribe = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => io.signals?.on(s, () => instance.unmount()) ?? (() => {}));

  let failure: unknown = null;
  try {
    await instance.waitUntilExit();
  } catch (err) {
    failure = err;
  } finally {
    for (const u of unsubscribe) u();
    restore();
    process.off('exit', restore);
  }
  // Printed only after the screen is restored, so the message stays readable.
  if (failure) {
    io.stderr.write(`ampio-bridge top: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return 1;
  }
  return 0;
}
