// The ampio service: the house layer as one DaemonService. Its tap decodes every bus; it
// reads the house file at start and on every SIGHUP (a bad file is logged with its line and
// column and the previous names stay), sweeps modules offline, contributes the `ampio`
// snapshot section and answers the control request `ampio_state`.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/options.js';
import type { Logger } from '../system/logger.js';
import { emptyHouse, HouseFileError, parseHouseFile } from './house-file.js';
import { Inventory, moduleKey } from './inventory.js';
import { StateStore } from './state-store.js';
import { AmpioTap } from './tap.js';
import type { AmpioSnapshot, AmpioView, House, ModuleEntry, StateView, Unsubscribe } from './types.js';
import { stateViews } from './views.js';

export interface AmpioServiceDeps {
  log: Logger;
  /** Monotonic ms (online/offline). */
  now?: () => number;
  /** Wall-clock ms. */
  wallClock?: () => number;
  readFile?: (path: string) => string;
}

/**
 * The daemon's service shape (DaemonService, src/service/contract.ts), spelled out rather than
 * imported: the house layer sits below the control protocol and the daemon, which carry its
 * snapshot section, so it names only its own section.
 */
export interface AmpioService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  reload(config: Config): void;
  /** Writes the `ampio` section of a snapshot being taken. */
  contribute(snapshot: { ampio?: AmpioSnapshot }): void;
  /** Answers `ampio_state`; undefined for any other request type. */
  answer(request: Readonly<Record<string, unknown>>): unknown;
  readonly tap: AmpioTap;
  readonly view: AmpioView;
  /** Re-reads the house file now (SIGHUP does this through reload). */
  reloadHouse(path: string): boolean;
}

type AmpioConfig = Pick<Config, 'ampioConfig' | 'ampioOfflineAfter' | 'ampioLowSupply'>;

export function createAmpioService(config: AmpioConfig, deps: AmpioServiceDeps): AmpioService {
  const { log } = deps;
  const now = deps.now ?? (() => performance.now());
  const wall = deps.wallClock ?? (() => Date.now());
  const read = deps.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let house: House = emptyHouse(wall());
  let houseError: string | null = null;
  let lowSupply = config.ampioLowSupply;
  let houseListeners: Array<(h: House) => void> = [];
  let timer: NodeJS.Timeout | null = null;

  const store = new StateStore();
  const inventory = new Inventory(now, () => house, config.ampioOfflineAfter);
  const tap = new AmpioTap({
    inventory,
    store,
    onUnknownType: (type, module) =>
      log.info('ampio_unknown_type', {
        type: `0x${type.toString(16).padStart(2, '0')}`,
        module: `0x${moduleKey(module)}`,
        message: 'a state type without a decoder row: counted per type, logged once',
      }),
  });
  inventory.onChange((m) => {
    const fields = { module: `0x${m.key}`, name: m.name ?? '', bus: m.bus };
    // A record is announced as it is created, before its first frame is counted.
    if (m.online && m.frames === 0) log.info('ampio_module_found', fields);
    else if (m.online) log.info('ampio_module_online', fields);
    else log.warn('ampio_module_offline', { ...fields, silent_s: Math.round(inventory.offlineAfterMs / 1000) });
  });

  function reloadHouse(path: string): boolean {
    if (path === '') {
      house = emptyHouse(wall());
      houseError = null;
    } else {
      try {
        house = parseHouseFile(read(path), path, wall());
        houseError = null;
        log.info('ampio_config_loaded', { path, devices: house.devices.length, entities: house.devices.reduce((n, d) => n + d.entities.length, 0) });
      } catch (err) {
        houseError =
          err instanceof HouseFileError
            ? err.message
            : `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((err as Error).message ?? err)}`;
        log.error('ampio_config_failed', {
          error: houseError,
          hint: house.path ? `still using the names read from ${house.path}` : 'modules are shown under their addresses until the file is fixed (then SIGHUP)',
        });
        return false;
      }
    }
    for (const l of houseListeners) {
      try {
        l(house);
      } catch {
        // A listener's failure is its own.
      }
    }
    return true;
  }

  const view: AmpioView = {
    state: store,
    house: () => house,
    onHouseChange(fn): Unsubscribe {
      houseListeners = [...houseListeners, fn];
      return () => {
        houseListeners = houseListeners.filter((l) => l !== fn);
      };
    },
    modules: () => inventory.entries(),
    onModuleChange: (fn) => inventory.onChange(fn),
    snapshot(): AmpioSnapshot {
      const modules: ModuleEntry[] = inventory.entries();
      return {
        house: {
          path: house.path,
          devices: house.devices.length,
          entities: house.devices.reduce((n, d) => n + d.entities.length, 0),
          loadedAt: house.path ? house.loadedAt : null,
          error: houseError,
        },
        offlineAfterMs: inventory.offlineAfterMs,
        lowSupplyVolts: lowSupply,
        modules,
        decode: tap.counters(),
      };
    },
    stateViews: (filter?: string): StateView[] => stateViews(store, house, filter),
  };

  return {
    name: 'ampio',
    tap,
    view,
    reloadHouse,
    async start() {
      if (config.ampioConfig !== '') reloadHouse(config.ampioConfig);
      // Offline is noticed within a second (or a quarter of a short threshold).
      timer = setInterval(() => inventory.sweep(), Math.min(1000, Math.max(100, inventory.offlineAfterMs / 4)));
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      tap.drain();
    },
    reload(next: Config) {
      inventory.offlineAfterMs = next.ampioOfflineAfter;
      lowSupply = next.ampioLowSupply;
      // Every SIGHUP re-reads the file: its content may have changed even if the path did not.
      reloadHouse(next.ampioConfig);
    },
    contribute(snapshot: { ampio?: AmpioSnapshot }) {
      tap.drain();
      snapshot.ampio = view.snapshot();
    },
    answer(request) {
      if (request.type !== 'ampio_state') return undefined;
      tap.drain();
      return view.stateViews(typeof request.filter === 'string' ? request.filter : undefined);
    },
  };
}
