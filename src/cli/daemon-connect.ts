// The CLI's one way to reach the running daemon: resolve its control socket (the flag, the
// environment, then this user's or the system's default) and connect within a timeout. A
// daemon that does not answer is told in one wording by every command that needs it.
import { ControlClient, ControlUnavailableError, connectOptionsFor, resolveControlSocket } from '../control/control-client.js';
import { type CliContext, EXIT } from './context.js';

export async function connectDaemon(ctx: CliContext, socketFlag: string | null, timeoutMs = 3000): Promise<ControlClient> {
  const socket = resolveControlSocket({ flag: socketFlag, env: ctx.env, role: 'client', systemRuntimeDir: ctx.systemRuntimeDir });
  return ControlClient.connect(socket.path, connectOptionsFor(socket, { timeoutMs }));
}

/**
 * connectDaemon for `command`: the client, or the exit code when no daemon answers (said on
 * stderr as "ampio-bridge <command>: <why>"). Other errors are thrown.
 */
export async function connectOrExit(
  command: string,
  ctx: CliContext,
  socketFlag: string | boolean | undefined,
  timeoutMs: number,
): Promise<ControlClient | number> {
  try {
    return await connectDaemon(ctx, typeof socketFlag === 'string' ? socketFlag : null, timeoutMs);
  } catch (err) {
    if (!(err instanceof ControlUnavailableError)) throw err;
    ctx.stderr.write(`ampio-bridge ${command}: ${err.message}\n`);
    return EXIT.notRunning;
  }
}
