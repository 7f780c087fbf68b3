// `--no-<name>` of a true/false flag → `--<name>=false`: the one pre-pass both argument
// readers run before util.parseArgs (serve's, driven by the options table, and the other
// commands', driven by their flag tables), since parseArgs has no negation on every Node 20
// release. `--no-<name>=x` is given back as a problem (that form takes no value) for each
// reader to word in its own errors; everything after `--` is left as it is.

export interface NegationProblem {
  /** The flag's name without `no-`. */
  name: string;
  /** What followed the `=`. */
  value: string;
}

export function expandNegations(args: readonly string[], negatable: (name: string) => boolean): { args: string[]; problems: NegationProblem[] } {
  const out: string[] = [];
  const problems: NegationProblem[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const m = /^--no-([^=]+)(?:=(.*))?$/.exec(arg);
    if (m && negatable(m[1])) {
      if (m[2] !== undefined) problems.push({ name: m[1], value: m[2] });
      else out.push(`--${m[1]}=false`);
    } else out.push(arg);
  }
  return { args: out, problems };
}
