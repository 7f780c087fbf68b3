// `ampio-bridge state [MODULE|NAME] [--json] [--watch]`: every value the running bridge has
// decoded, with the house file's names, units and the age of the last change; one module
// by address (0x1a1e) or by module or entity name.
import type { StateView } from '../../ampio/types.js';
import { ControlRequestError } from '../../control/client-errors.js';
import { formatStates } from '../../ampio/present.js';
import { AMPIO_COMMAND_FLAGS_HELP, runAmpioCommand } from '../ampio-command.js';
import type { CliContext } from '../context.js';

export const STATE_HELP = `Usage: ampio-bridge state [MODULE|NAME] [--json] [--watch]

Every decoded value of the Ampio modules (binary inputs and outputs, analog outputs,
temperatures, diagnostics, …) with the names the house file gives them, their units and how
long ago they last changed. MODULE is an address (0x1a1e, 00001a1e) or a module or entity
name from the house file; without it, every module.

${AMPIO_COMMAND_FLAGS_HELP}`;

export function run(args: string[], ctx: CliContext): Promise<number> {
  return runAmpioCommand<StateView[]>(
    {
      name: 'state',
      help: STATE_HELP,
      maxPositionals: 1,
      async read(client, positionals) {
        try {
          return await client.ampioState(positionals[0]);
        } catch (err) {
          // A daemon with --ampio=false (or one from before this command) owns no such request.
          if (err instanceof ControlRequestError && err.code === 'unknown_type')
            throw new Error(
              'the bridge does not decode Ampio frames: it runs with --ampio=false or is older than this command (remove the flag, or update, and restart)',
            );
          throw err;
        }
      },
      json: (states) => states,
      text: (states, now) => formatStates(states, now),
    },
    args,
    ctx,
  );
}
