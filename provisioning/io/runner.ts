// The command port of provisioning: every external command (systemctl, useradd, ip, npm,
// dmesg …) goes through one Runner, so tests record or refuse them and `--root` can list
// the live-system ones instead of running them. Commands are argv arrays, never shell
// strings: no quoting bugs, no injection (hb-service's 47 string-built execSync calls).

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command after this long (liveness, not speed). Default 60 s. */
  timeoutMs?: number;
}

export interface Runner {
  /** Never throws for a non-zero exit; a missing program gives exit code 127. */
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
}

/** Shell-style rendering for people (plans, summaries, error messages). */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The real runner, on execa. */
export class ExecaRunner implements Runner {
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const { execa } = await import('execa');
    const [file, ...args] = argv;
    const r = await execa(file, args, {
      reject: false,
      stdin: 'ignore',
      timeout: opts.timeoutMs ?? 60_000,
      // Stable, parseable output from systemctl/ip regardless of the user's locale.
      env: { LC_ALL: 'C', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
      stripFinalNewline: false,
    });
    if (r.failed && r.exitCode === undefined) {
      const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
      return { exitCode: code === 'ENOENT' ? 127 : 126, stdout: '', stderr: r.shortMessage ?? String(r.cause) };
    }
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  }
}

export class RefusedCommandError extends Error {
  readonly code = 'COMMAND_REFUSED';
  constructor(argv: readonly string[]) {
    super(`refused to run ${formatCommand(argv)}: commands are disabled (dry run)`);
  }
}

/** A runner that throws on every command: the dry-run and pure-probe guard. */
export const throwingRunner: Runner = {
  async run(argv) {
    throw new RefusedCommandError(argv);
  },
};

/**
 * Lets through only commands `allow` accepts and refuses the rest: a real dry run still
 * asks read-only questions (ip -json link, systemctl is-active) but can change nothing.
 */
export function allowlistRunner(inner: Runner, allow: (argv: readonly string[]) => boolean): Runner {
  return {
    run(argv, opts) {
      if (!allow(argv)) throw new RefusedCommandError(argv);
      return inner.run(argv, opts);
    },
  };
}

/** The read-only commands probe and doctor use. */
export function isReadOnlyCommand(argv: readonly string[]): boolean {
  const line = argv.join(' ');
  return (
    /^ip( -details| -statistics| -json)* link show( type can| \S+)?$/.test(line) ||
    /^systemctl (--version|is-active \S+|is-enabled \S+)$/.test(line) ||
    line === 'npm prefix --global' ||
    /^(dmesg|journalctl -k -b --no-pager)$/.test(line) ||
    /^avahi-browse -p?rtp? \S+$/.test(line)
  );
}
