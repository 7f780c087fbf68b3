// The options core: what one entry of the options table is. Below the wire-protocol plug-ins
// (each declares its own group with it) and the table that composes them (src/config/).

export type OptionKind = 'string' | 'int' | 'bool' | 'duration' | 'enum' | 'list' | 'address' | 'path';

export interface OptionSpec<T> {
  /** kebab-case flag without dashes; also the config-file key */
  flag: string;
  kind: OptionKind;
  default: T;
  /** What the default means when it is computed at run time (shown in help). */
  defaultText?: string;
  /** Short form of the accepted values, used in error messages: "a port like :20000" */
  expected: string;
  help: string;
  group: 'backend' | 'network' | 'hub' | 'observability' | 'logging';
  /** `structural` needs a restart; `reloadable` may change on SIGHUP. */
  scope: 'structural' | 'reloadable';
  parse(raw: string): T;
  /** Renders a value back to the text a flag/env/file would hold. */
  format?(value: T): string;
  /** The accepted words of an `enum` option (help, shell completion, the setup wizard). */
  choices?: readonly string[];
  /**
   * An empty environment variable normally counts as unset (as in go-ampio-server and
   * systemd EnvironmentFile templates with blank values); set this where empty is a real
   * value, e.g. `metrics-addr` where empty means "off".
   */
  emptyIsValue?: boolean;
  /**
   * The option is where something listens (an `address`: TCP; a `path`: a Unix socket). Every
   * such option takes part in one clash rule (listeners.ts): no two listeners on one socket.
   * `what` names it in the error ("the <what> port"); `perBus`: bus i listens on port + i;
   * `transport`: a UDP port clashes only with UDP ports (default tcp).
   */
  listener?: { what: string; perBus?: boolean; transport?: 'tcp' | 'udp' };
}
