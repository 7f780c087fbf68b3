// Configuration problems. The loader collects every one of them before returning, so a
// user fixes a broken unit file or config in one go instead of one error per restart.

export type ConfigErrorCode =
  /** A value that does not parse or is out of range. */
  | 'CONFIG_INVALID_VALUE'
  /** A flag that `serve` does not know. */
  | 'CONFIG_UNKNOWN_FLAG'
  /** `--listen` with nothing after it. */
  | 'CONFIG_MISSING_VALUE'
  /** A bare word where only flags are accepted. */
  | 'CONFIG_UNEXPECTED_ARGUMENT'
  /** `--config PATH` names a file that is not there. */
  | 'CONFIG_FILE_MISSING'
  /** The config file exists but cannot be read (permissions, a directory). */
  | 'CONFIG_FILE_UNREADABLE'
  /** The config file is not a JSON object. */
  | 'CONFIG_FILE_INVALID'
  /** Values that are fine alone but not together (serial with two buses, port clashes). */
  | 'CONFIG_CONFLICT';

/** Where a value came from, for messages ("from AMPIO_BRIDGE_BAUD"). */
export type ValueSource =
  | { kind: 'default' }
  | { kind: 'file'; path: string; key: string }
  | { kind: 'env'; name: string }
  /** A deprecated go-ampio-server name standing in for `replaces`. */
  | { kind: 'alias'; name: string; replaces: string }
  | { kind: 'flag'; name: string };

export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'default':
      return 'the default';
    case 'file':
      return `${source.path}, key "${source.key}"`;
    case 'env':
      return `env ${source.name}`;
    case 'alias':
      return `env ${source.name} (deprecated name of ${source.replaces})`;
    case 'flag':
      return 'the command line';
  }
}

export interface ConfigErrorFields {
  code: ConfigErrorCode;
  message: string;
  /** `--hub-buffer`, or null when the problem is not about one flag (an unreadable file). */
  flag?: string | null;
  /** `AMPIO_BRIDGE_HUB_BUFFER` */
  env?: string | null;
  /** The offending text as the user wrote it. */
  value?: string | null;
  /** The accepted form, from the options table. */
  expected?: string | null;
  /** What to do next. */
  hint: string;
  source?: ValueSource | null;
  cause?: unknown;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly flag: string | null;
  readonly env: string | null;
  readonly value: string | null;
  readonly expected: string | null;
  readonly hint: string;
  readonly source: ValueSource | null;

  constructor(fields: ConfigErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'ConfigError';
    this.code = fields.code;
    this.flag = fields.flag ?? null;
    this.env = fields.env ?? null;
    this.value = fields.value ?? null;
    this.expected = fields.expected ?? null;
    this.hint = fields.hint;
    this.source = fields.source ?? null;
  }
}
