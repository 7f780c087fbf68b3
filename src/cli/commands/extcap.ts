// `ampio-bridge extcap`: the bridge as a Wireshark extcap, so its buses appear in
// Wireshark's interface list and capture live from the running bridge (the same stream as
// `capture live --format pcapng`). The extcap calls and their output lines follow
// Wireshark's extcap documentation (doc/extcap.adoc / wireshark.org/docs/man-pages/extcap):
// --extcap-interfaces, --extcap-dlts, --extcap-config, --capture --fifo PATH.
// `--install` writes a small launcher into Wireshark's personal extcap folder
// (~/.config/wireshark/extcap, as Wireshark 4 looks for it; $XDG_CONFIG_HOME respected),
// locally or, with --ssh USER@HOST, one that runs the extcap on the Pi over SSH.
import { createWriteStream, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LINKTYPE_CAN_SOCKETCAN } from '../../capture/formats/socketcan-header.js';
import type { FramesRequest } from '../../control/protocol.js';
import { type CliContext, EXIT } from '../context.js';
import { askDaemon, liveFilter, streamLive } from './capture-live.js';

const FLAGS = {
  'extcap-interfaces': { type: 'boolean' },
  'extcap-version': { type: 'string' },
  'extcap-dlts': { type: 'boolean' },
  'extcap-config': { type: 'boolean' },
  'extcap-interface': { type: 'string' },
  'extcap-capture-filter': { type: 'string' },
  'extcap-control-in': { type: 'string' },
  'extcap-control-out': { type: 'string' },
  capture: { type: 'boolean' },
  fifo: { type: 'string' },
  id: { type: 'string' },
  'control-socket': { type: 'string' },
  install: { type: 'boolean' },
  ssh: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const PREFIX = 'ampio-';
const ALL = `${PREFIX}all`;

export const EXTCAP_HELP = `Usage: ampio-bridge extcap --install [--ssh USER@HOST] [--control-socket PATH]

Makes the bridge's buses Wireshark interfaces ("ampio-can0", "ampio-all"): Wireshark
runs this command (its extcap interface) to list them and to capture from the running bridge.

  --install             write the launcher into Wireshark's personal extcap folder
                        ($XDG_CONFIG_HOME or ~/.config, then wireshark/extcap/ampio-bridge)
  --ssh USER@HOST       (with --install, on your desktop) capture from the bridge on HOST over
                        SSH: the launcher runs "ampio-bridge extcap" there (key login needed)
  --control-socket PATH the running bridge's control socket (default as for status)

Wireshark's calls: --extcap-interfaces, --extcap-dlts, --extcap-config,
--capture --extcap-interface ampio-can0 --fifo PATH [--id ID[/MASK]].

Example: ampio-bridge extcap --install && wireshark -k -i ampio-can0
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true });
  const socketFlag = typeof values['control-socket'] === 'string' ? values['control-socket'] : null;
  if (values.help) {
    ctx.stdout.write(EXTCAP_HELP);
    return EXIT.ok;
  }
  if (values.install) return install(ctx, typeof values.ssh === 'string' ? values.ssh : null, socketFlag);
  if (values['extcap-interfaces']) {
    const snap = await askDaemon(ctx, { type: 'snapshot' }, socketFlag);
    const lines = [`extcap {version=${snap?.daemon.version ?? '0'}}{display=ampio-bridge: the CAN buses of the running bridge}`];
    lines.push(`interface {value=${ALL}}{display=Ampio CAN bridge: all buses}`);
    for (const b of snap?.buses ?? []) lines.push(`interface {value=${PREFIX}${b.name}}{display=Ampio CAN bridge: ${b.name}}`);
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  }
  if (values['extcap-dlts']) {
    ctx.stdout.write(`dlt {number=${LINKTYPE_CAN_SOCKETCAN}}{name=CAN_SOCKETCAN}{display=SocketCAN}\n`);
    return EXIT.ok;
  }
  if (values['extcap-config']) {
    ctx.stdout.write(
      `${[
        'arg {number=0}{call=--id}{display=CAN ID filter}{type=string}{tooltip=One arbitration ID (hex, 0x1ABC) or ID/mask (0x1D000000/0xFF000000); empty = all}',
        "arg {number=1}{call=--control-socket}{display=Control socket}{type=string}{tooltip=The bridge's control socket; empty = the default}",
      ].join('\n')}\n`,
    );
    return EXIT.ok;
  }
  if (values.capture) {
    const iface = typeof values['extcap-interface'] === 'string' ? values['extcap-interface'] : ALL;
    const fifo = typeof values.fifo === 'string' ? values.fifo : null;
    if (!fifo) {
      ctx.stderr.write('ampio-bridge extcap: --capture needs --fifo PATH (Wireshark passes it)\n');
      return EXIT.usage;
    }
    const bus = iface === ALL ? undefined : iface.startsWith(PREFIX) ? iface.slice(PREFIX.length) : iface;
    const idText =
      typeof values.id === 'string' && values.id.trim() !== ''
        ? values.id
        : typeof values['extcap-capture-filter'] === 'string' && values['extcap-capture-filter'].trim() !== ''
          ? values['extcap-capture-filter']
          : undefined;
    let filter: FramesRequest;
    try {
      filter = liveFilter(bus, idText);
    } catch (err) {
      ctx.stderr.write(`ampio-bridge extcap: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    const out = fifo === '-' ? ctx.stdout : createWriteStream(fifo);
    try {
      const r = await streamLive(ctx, { format: 'pcapng', filter, out, socketFlag });
      if (out !== ctx.stdout) out.end();
      ctx.stderr.write(`${r.frames} frames${r.dropped > 0 ? `, ${r.dropped} dropped (Wireshark read slower than the bus)` : ''}\n`);
      return EXIT.ok;
    } catch (err) {
      ctx.stderr.write(`ampio-bridge extcap: ${(err as Error).message} (is the bridge running?)\n`);
      return EXIT.failure;
    }
  }
  ctx.stderr.write('ampio-bridge extcap: Wireshark runs this with --extcap-interfaces, --capture …; to set it up run "ampio-bridge extcap --install"\n');
  return EXIT.usage;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function install(ctx: CliContext, ssh: string | null, socketFlag: string | null): number {
  const home = ctx.env.HOME;
  const config = ctx.env.XDG_CONFIG_HOME && path.isAbsolute(ctx.env.XDG_CONFIG_HOME) ? ctx.env.XDG_CONFIG_HOME : home ? path.join(home, '.config') : null;
  if (!config) {
    ctx.stderr.write('ampio-bridge extcap: neither HOME nor XDG_CONFIG_HOME is set: where is your Wireshark folder?\n');
    return EXIT.usage;
  }
  const dir = path.join(config, 'wireshark', 'extcap');
  const file = path.join(dir, 'ampio-bridge');
  const socketArg = socketFlag ? ` --control-socket ${quote(socketFlag)}` : '';
  let body: string;
  if (ssh) {
    // The capture runs on the Pi and writes PCAPNG to its stdout; this launcher points that at
    // Wireshark's local FIFO. Arguments are quoted for the remote shell.
    body = `args=''
fifo=''
while [ $# -gt 0 ]; do
  if [ "$1" = "--fifo" ]; then fifo=$2; shift 2; args="$args --fifo -"; continue; fi
  args="$args '$(printf '%s' "$1" | sed "s/'/'\\\\\\\\''/g")'"
  shift
done
if [ -n "$fifo" ]; then exec ssh -T -o BatchMode=yes ${quote(ssh)} "ampio-bridge extcap$args${socketArg}" > "$fifo"; fi
exec ssh -T -o BatchMode=yes ${quote(ssh)} "ampio-bridge extcap$args${socketArg}"
`;
  } else {
    const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
    body = `exec ${quote(process.execPath)} ${quote(main)} extcap "$@"${socketArg}\n`;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    `#!/bin/sh\n# Wireshark extcap launcher written by "ampio-bridge extcap --install"${ssh ? ` (over SSH to ${ssh})` : ''}; delete it to remove.\n${body}`,
  );
  chmodSync(file, 0o755);
  ctx.stdout.write(`installed ${file}: restart Wireshark and pick "ampio-${ssh ? 'all' : 'can0'}" (or any ampio-… interface)\n`);
  return EXIT.ok;
}
