// The commands of `ampio-bridge`. Each lives in src/cli/commands/<name>.ts and is imported
// only when run, so `serve` never pays for (or breaks on) React, Ink or inquirer.

export interface CommandInfo {
  name: string;
  /** One line for `ampio-bridge --help`. */
  summary: string;
  /** Shown in help after the name, e.g. "[flags]". */
  usage: string;
}

export const COMMANDS: readonly CommandInfo[] = [
  { name: 'serve', summary: 'run the bridge (what systemd runs): the CAN bus ↔ clients of every wire protocol, frame capture, the house', usage: '[flags]' },
  { name: 'status', summary: 'ask the running bridge for its buses, clients and counters (--json)', usage: '[--json]' },
  { name: 'top', summary: 'live monitor of buses, clients and frame rates (needs a terminal)', usage: '[flags]' },
  { name: 'modules', summary: 'the Ampio modules on the bus: name, model, supply voltage, temperature, online (--json, --watch)', usage: '[--json] [--watch]' },
  { name: 'state', summary: 'every decoded Ampio value with its name, unit and age (--json, --watch)', usage: '[MODULE|NAME] [--json] [--watch]' },
  { name: 'setup', summary: 'install on a Raspberry Pi: CAN HAT overlay, interfaces, service (--dry-run shows the plan)', usage: '[flags]' },
  { name: 'doctor', summary: 'read-only checks with fixes: overlay, CAN link and bitrate, service, ports, capture', usage: '[flags]' },
  { name: 'discover', summary: 'find bridges on the local network over mDNS', usage: '[flags]' },
  {
    name: 'capture',
    summary: 'read the frame store of serve --capture: stats, query (what happened at 02:14?), export (candump, ASC, PCAPNG …), import, live, replay',
    usage: '<stats|query|export|import|live|replay> [flags]',
  },
  { name: 'extcap', summary: "Wireshark extcap: the bridge's buses in Wireshark's interface list (extcap --install)", usage: '[--install [--ssh USER@HOST]]' },
  { name: 'version', summary: 'print version, commit and build date', usage: '[--json]' },
  { name: 'help', summary: 'show help for a command', usage: '[command]' },
];

export const COMMAND_NAMES = COMMANDS.map((c) => c.name);

export function findCommand(name: string): CommandInfo | undefined {
  return COMMANDS.find((c) => c.name === name);
}
