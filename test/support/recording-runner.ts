// A Runner for tests: records every command and answers from a table, standing in for a
// live system that cannot run here (systemctl, ip on a Pi).
import { type CommandResult, formatCommand, type Runner } from '../../provisioning/io/runner.js';

export interface CannedResponse {
  /** Exact rendered command (formatCommand) or a pattern over it. */
  match: string | RegExp;
  result: Partial<CommandResult>;
}

/**
 * Records every command and answers from a table; unmatched commands succeed silently
 * unless `strict`. Tests assert on `calls` (exact argv), and the table stands in for a
 * live system that cannot run here (systemctl, ip on a Pi).
 */
export class RecordingRunner implements Runner {
  readonly calls: string[][] = [];
  constructor(
    private readonly responses: CannedResponse[] = [],
    private readonly opts: { strict?: boolean } = {},
  ) {}

  async run(argv: readonly string[]): Promise<CommandResult> {
    this.calls.push([...argv]);
    const line = formatCommand(argv);
    for (const r of this.responses) {
      if (typeof r.match === 'string' ? r.match === line : r.match.test(line)) {
        return { exitCode: 0, stdout: '', stderr: '', ...r.result };
      }
    }
    if (this.opts.strict) return { exitCode: 127, stdout: '', stderr: `RecordingRunner: no canned answer for ${line}` };
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  /** Calls rendered as shell lines, for readable assertions. */
  get lines(): string[] {
    return this.calls.map(formatCommand);
  }
}
