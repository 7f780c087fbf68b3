// The wire protocols this daemon serves: those whose listen option is set, each plug-in
// module loaded only when enabled (through the registry; the daemon names none).
import type { Config, ListenAddress } from '../config/options.js';
import { PLUGINS } from '../protocols/registry.js';
import type { WireProtocol } from '../protocols/types.js';

/** The protocols whose listen option is set, loaded (each module only when enabled). */
export async function enabledProtocols(config: Config): Promise<Array<{ protocol: WireProtocol; address: ListenAddress }>> {
  const values = config as unknown as Record<string, unknown>;
  const enabled: Array<{ protocol: WireProtocol; address: ListenAddress }> = [];
  for (const plugin of PLUGINS) {
    const address = values[plugin.listen] as ListenAddress | null | undefined;
    if (address) enabled.push({ protocol: await plugin.load(values as never), address });
  }
  return enabled;
}
