#!/usr/bin/env node
// The `ampio-bridge` executable: wires the real process into a CliContext and turns the
// command's result into the exit code. The only place that calls process.exit.

import { type CliContext, createProcessSignals, EXIT } from './context.js';
import { runCli } from './run.js';

/**
 * After a command has finished, whatever still holds the event loop open (a socket a
 * backend failed to close, a stray timer) must not keep a stopped daemon alive: systemd
 * expects the process gone. The timer is unref'd, so a clean exit is not delayed by it.
 */
const LINGER_MS = 500;

// `ampio-bridge --help | head -1` closes our stdout early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // EIO: the terminal went away under `top` (SSH dropped, window closed).
    if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
  });
}

const ctx: CliContext = {
  argv0: 'ampio-bridge',
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  // Lazy: touching process.stdin creates a handle; only commands that read it should.
  get stdin() {
    return process.stdin;
  },
  isTTY: process.stdout.isTTY === true,
  cwd: process.cwd(),
  isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
  signals: createProcessSignals((signal) => {
    process.stderr.write(`ampio-bridge: ${signal} again, exiting without waiting for a clean shutdown\n`);
    process.exit(EXIT.failure);
  }),
};

const code = await runCli(process.argv.slice(2), ctx);
process.exitCode = code;
setTimeout(() => process.exit(code), LINGER_MS).unref();
