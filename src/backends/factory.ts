// Creates the backends `serve` runs, one per bus. Hardware backends are imported lazily,
// so the virtual backend needs neither the SocketCAN addon nor serialport, and a broken
// native build fails only its own backend.
import type { Config } from '../config/options.js';
import { rxCoalesceMs } from './socketcan/socket-tuning.js';
import type { Logger } from '../system/logger.js';
import type { SerialBackendOptions } from './serial.js';
import type { SocketCanBackendOptions } from './socketcan/backend.js';
import type { CanBackend } from './types.js';
import { createVirtualBackend } from './virtual.js';

export interface BackendDeps {
  log?: Logger;
  now?: () => number;
  wallClock?: () => number;
  /** Extra options for the hardware backends (poll intervals, injected link reads in tests). */
  socketcan?: Partial<SocketCanBackendOptions>;
  serial?: Partial<SerialBackendOptions>;
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
    case 'socketcan': {
      // One backend per interface: `--can-if can0,can1` serves each on its own port.
      const { createSocketCanBackend } = await import('./socketcan/backend.js');
      return config.canIf.map((ifname) =>
        createSocketCanBackend({
          ifname,
          bitrate: config.bitrate,
          txQueueSize: config.txQueueSize,
          txMaxAge: config.txMaxAge,
          rcvbuf: config.canRcvbuf,
          rxCoalesceMs: rxCoalesceMs(config),
          now,
          wallClock,
          ...deps.socketcan,
        }),
      );
    }
    case 'serial': {
      const { createSerialBackend } = await import('./serial.js');
      return [
        createSerialBackend({
          path: config.serial,
          baud: config.baud,
          bitrate: config.bitrate,
          txQueueSize: config.txQueueSize,
          txMaxAge: config.txMaxAge,
          now,
          wallClock,
          ...deps.serial,
        }),
      ];
    }
  }
}
