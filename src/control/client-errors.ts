// What can go wrong talking to the daemon, each with the next step for the person.
import { CONTROL_PROTOCOL_VERSION } from './protocol.js';

export type ControlUnavailableCode = 'not_running' | 'permission' | 'bad_hello' | 'timeout' | 'unsafe' | 'no_descriptors';

/** The daemon cannot be reached over its control socket; `message` says what to do. */
export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError';
  readonly code: ControlUnavailableCode;
  readonly path: string;
  readonly hint: string;

  constructor(code: ControlUnavailableCode, socketPath: string, detail: string, hint: string, cause?: unknown) {
    super(`${detail}. ${hint}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = socketPath;
    this.hint = hint;
  }
}

export type ControlRequestErrorCode = 'bad_request' | 'unknown_type' | 'not_found' | 'too_long' | 'internal' | 'closed' | 'timeout';

/** A request got an error reply, or the connection ended/hung before the reply. */
export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  readonly code: ControlRequestErrorCode;
  readonly hint: string;

  constructor(code: ControlRequestErrorCode, message: string, hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.hint = hint;
  }
}

export function unavailable(code: ControlUnavailableCode, socketPath: string, cause?: unknown, extra?: string): ControlUnavailableError {
  switch (code) {
    case 'not_running':
      return new ControlUnavailableError(
        code,
        socketPath,
        `ampio-bridge is not running (no control socket answers at ${socketPath}${extra ? `: ${extra}` : ''})`,
        'Start it with "sudo systemctl start ampio-bridge" (or "ampio-bridge serve"), or pass --control-socket PATH if it uses another socket',
        cause,
      );
    case 'permission':
      return new ControlUnavailableError(
        code,
        socketPath,
        `permission denied on the control socket ${socketPath}`,
        'Add your user to the ampio-bridge group ("sudo usermod -aG ampio-bridge $USER", then log in again) or run the command with sudo',
        cause,
      );
    case 'bad_hello':
      return new ControlUnavailableError(
        code,
        socketPath,
        `${socketPath} did not greet like an ampio-bridge control socket (protocol ${CONTROL_PROTOCOL_VERSION})${extra ? `: ${extra}` : ''}`,
        'Check --control-socket, and that the daemon and this command are the same ampio-bridge version',
        cause,
      );
    case 'unsafe':
      return new ControlUnavailableError(
        code,
        socketPath,
        `refusing to talk to ${socketPath}: ${extra ?? 'its directory is not safe'}`,
        'Someone else may have planted a fake socket there. Remove that directory, or pass --control-socket PATH (or AMPIO_BRIDGE_CONTROL_SOCKET) to name the real one',
        cause,
      );
    case 'no_descriptors':
      // libuv answers an accept() that fails with EMFILE/ENFILE by accepting and closing at
      // once: the connection ends before a single byte, which a live daemon never does.
      return new ControlUnavailableError(
        code,
        socketPath,
        `the daemon is out of file descriptors: it accepted the connection on ${socketPath} and closed it at once without a word`,
        'See "journalctl -u ampio-bridge" (accept_exhausted lines say how many connections it holds and refuses); raise LimitNOFILE= in the service, or find what holds the connections with "ss -tnp"',
        cause,
      );
    case 'timeout':
      return new ControlUnavailableError(
        code,
        socketPath,
        `no answer from the control socket ${socketPath}${extra ? ` within ${extra}` : ''}`,
        'The daemon may be stuck: check "journalctl -u ampio-bridge" and restart it with "sudo systemctl restart ampio-bridge"',
        cause,
      );
  }
}

export function codeOfConnectError(err: NodeJS.ErrnoException): ControlUnavailableCode {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    // ENOENT: no socket file; ECONNREFUSED: a stale file from a crashed daemon;
    // ENOTSOCK: something else sits at the path. All mean "no daemon here".
    default:
      return 'not_running';
  }
}
