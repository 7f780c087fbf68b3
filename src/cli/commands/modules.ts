// `ampio-bridge modules [--json] [--watch]`: the Ampio modules the running bridge has heard
// (and those the house file names): address, name, model, area, supply voltage,
// temperature, last seen, online. --json prints the snapshot's `ampio` section as-is.
import type { AmpioSnapshot } from '../../ampio/types.js';
import { formatModules } from '../../ampio/present.js';
import { AMPIO_COMMAND_FLAGS_HELP, runAmpioCommand } from '../ampio-command.js';
import type { CliContext } from '../context.js';

export const MODULES_HELP = `Usage: ampio-bridge modules [--json] [--watch]

The Ampio modules on the bus, from the running bridge: address, name, model and area (from
the house file, --ampio-config), supply voltage and temperature (from each module's
diagnostics broadcast), when it was last heard, and whether it is online (heard within
--ampio-offline-after). A module the house file names but the bus never carried is listed
as "never heard".

${AMPIO_COMMAND_FLAGS_HELP}`;

export function run(args: string[], ctx: CliContext): Promise<number> {
  return runAmpioCommand<AmpioSnapshot>(
    {
      name: 'modules',
      help: MODULES_HELP,
      maxPositionals: 0,
      async read(client) {
        const snapshot = await client.snapshot();
        if (!snapshot.ampio) throw new Error('the bridge does not decode Ampio frames: it runs with --ampio=false (remove it and restart)');
        return snapshot.ampio;
      },
      json: (a) => a,
      text: (a, now) => formatModules(a, now),
    },
    args,
    ctx,
  );
}
