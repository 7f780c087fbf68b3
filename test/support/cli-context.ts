// A CliContext with captured output and hand-driven signals, to run commands in-process.
import { PassThrough, Writable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import { createManualSignals } from './manual-signals.js';

export interface CapturedCli {
  ctx: CliContext;
  stdout(): string;
  stderr(): string;
  signals: ReturnType<typeof createManualSignals>;
}

function capture(): { stream: Writable & { columns?: number; isTTY?: boolean }; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export function captureCli(overrides: Partial<CliContext> = {}): CapturedCli {
  const out = capture();
  const err = capture();
  const signals = createManualSignals();
  const ctx: CliContext = {
    argv0: 'ampio-bridge',
    env: {},
    stdout: out.stream,
    stderr: err.stream,
    stdin: new PassThrough(),
    isTTY: false,
    cwd: process.cwd(),
    isRoot: false,
    signals,
    ...overrides,
  };
  return { ctx, stdout: out.text, stderr: err.text, signals };
}
