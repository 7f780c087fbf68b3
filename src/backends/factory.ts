// Creates the backends `serve` runs, one per bus. Hardware backends are imported lazily,
// so the virtual backend needs neither the socketcan binding nor serialport, and a broken
// native build fails only its own backend.
import type { Config } from '../config/options.js';
import type { Logger } from '../system/logger.js';
import type { CanBackend } from './types.js';
import { createVirtualBackend } from './virtual.js';

export interface BackendDeps {
  log?: Logger;
  now?: () => number;
  wallClock?: () => number;
}

export async function createBackends(config: Config, deps: BackendDeps = {}): Promise<CanBackend[]> {
  const now = deps.now ?? (() => performance.now());
  const wallClock = deps.wallClock ?? (() => performance.timeOrigin + performance.now());
  switch (config.backend) {
    case 'virtual':
      return config.canIf.map((name, index) =>
        createVirtualBackend({
          name,
          index,
          rate: config.virtualRate,
          payload: config.virtualPayload,
          bitrate: config.bitrate,
          fd: true,
          now,
          wallClock,
        }),
      );
    default:
      throw new Error(`backend ${config.backend} is not available in this build yet`);
  }
}
