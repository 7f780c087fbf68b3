// The wire protocols this daemon serves: those whose listen option (or dial-out target) is
// set, each plug-in module loaded only when enabled (through the registry; the daemon names none).
import type { Config, ListenAddress } from '../config/options.js';
import { PLUGINS } from '../protocols/registry.js';
import type { EnabledProtocol } from '../server/sessions.js';

/** The protocols whose listen option (or dial-out target) is set, loaded (each module only when enabled). */
export async function enabledProtocols(config: Config): Promise<EnabledProtocol[]> {
  const values = config as unknown as Record<string, unknown>;
  const enabled: EnabledProtocol[] = [];
  for (const plugin of PLUGINS) {
    const address = (values[plugin.listen] as ListenAddress | null | undefined) ?? null;
    const connect = plugin.connect ? ((values[plugin.connect] as ListenAddress | null | undefined) ?? null) : null;
    const peers = plugin.peers ? ((values[plugin.peers] as ListenAddress[] | undefined) ?? []) : [];
    if (address || connect) enabled.push({ protocol: await plugin.load(values as never), address, connect, peers });
  }
  return enabled;
}
