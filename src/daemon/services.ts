import type { AmpioView } from '../ampio/types.js';
import type { LogFn } from '../core/log-fn.js';
import type { MetricsSource } from '../metrics/metrics-source.js';
import { PLUGINS } from '../protocols/registry.js';

// The service contract lives in src/service/ (the services' own floor, below the daemon).
export type { DaemonService, ServiceBus, ServiceInputs } from '../service/contract.js';
import type { DaemonService, ServiceInputs } from '../service/contract.js';

export interface StandardServiceOptions {
  controlSocketPath: string | null;
  env: Record<string, string | undefined>;
  /** Re-reads the configuration as SIGHUP does (the web page's reload); returns what changed. */
  reload?: () => string[];
  /** The house layer's read side, for the web page (absent with --ampio=false). */
  ampio?: AmpioView | null;
}

export async function createStandardServices(inputs: ServiceInputs, options: StandardServiceOptions): Promise<DaemonService[]> {
  const services: DaemonService[] = [];
  const { config, build, log, source } = inputs;
  const logAt: LogFn = (level, event, fields) => log[level](event, fields);
  if (options.controlSocketPath) {
    const { createControlServer } = await import('../control/control-server.js');
    // Live frames for `capture live` and the Wireshark extcap: one tap, idle while nobody listens.
    const { LiveFrames } = await import('../control/frame-stream.js');
    const tap = new LiveFrames();
    const frames = { tap, busNames: () => inputs.buses.map((b) => b.name) };
    const server = createControlServer({ path: options.controlSocketPath, source, helloInfo: { daemon: build.version, pid: process.pid }, log: logAt, frames });
    services.push({ name: 'control', start: () => server.start(), stop: () => server.stop(), tap });
  }
  // One HTTP server (the web page, its API, /metrics, /ready, /healthz) at --http-listen,
  // or at --metrics-addr where an older config names only that (config/load.ts refuses two
  // different addresses).
  const httpAddress = config.httpListen ?? config.metricsAddr;
  let web: { readonly address: { host: string; port: number } | null } | null = null;
  if (httpAddress) {
    const { createMetricsRegistry } = await import('../metrics/registry.js');
    const { serveProbe } = await import('../metrics/http.js');
    const { createWebService } = await import('../web/service.js');
    const registry = createMetricsRegistry({
      source,
      build,
      defaultMetrics: true,
      capture: config.capture ? { forwarding: config.pgUrl !== '' } : undefined,
      ampio: config.ampio,
      web: true,
      mqtt: config.mqttUrl !== '',
    });
    const service = createWebService({
      config,
      address: httpAddress,
      hostname: inputs.hostname,
      version: build.version,
      buses: inputs.buses,
      source,
      probe: (req, res) => serveProbe(req, res, { registry, readiness: () => source.readiness(), log: logAt }),
      reload: options.reload,
      ampio: options.ampio,
      log: logAt,
    });
    web = service;
    services.push(service);
  }
  services.push(metricsLogService(source, config.logMetricsInterval, logAt));
  if (config.mdnsEnable) {
    const { createMdnsAdvertiser } = await import('../system/mdns.js');
    const busListeners = inputs.listeners.flatMap((l) =>
      l.mdns
        ? [
            {
              bus: l.bus === null ? 'all' : inputs.buses[l.bus].name,
              host: l.host,
              port: l.port,
              bitrate: l.bus === null ? null : inputs.buses[l.bus].bitrate(),
              type: l.mdns.type,
              proto: l.protocol,
              txt: l.mdns.txt,
            },
          ]
        : [],
    );
    let advertiser: { start(): Promise<void>; stop(): Promise<void> } | null = null;
    services.push({
      name: 'mdns',
      // Built at start: the web server (started before this) has its bound port by then.
      async start() {
        const page =
          web?.address && httpAddress ? [{ bus: 'all', host: httpAddress.host, port: web.address.port, type: 'http', proto: 'http', txt: { path: '/' } }] : [];
        advertiser = createMdnsAdvertiser({
          name: config.mdnsName,
          hostname: inputs.hostname,
          backend: config.backend,
          version: build.version,
          // Each protocol's conventional service, as its plug-in declares it (`mdns`); protocols
          // without one are not advertised; the web page as _http._tcp.
          listeners: [...busListeners, ...page],
          log: logAt,
        });
        await advertiser.start();
      },
      stop: async () => advertiser?.stop(),
    });
  }
  services.push(...(await discoveryServices(inputs, logAt)));
  return services;
}

/**
 * Each protocol's discovery broadcast or beacon that its option turns on (off by default:
 * broadcast leaves the machine), given that protocol's bound listeners.
 */
async function discoveryServices(inputs: ServiceInputs, log: LogFn): Promise<DaemonService[]> {
  const services: DaemonService[] = [];
  const values = inputs.config as unknown as Record<string, unknown>;
  for (const plugin of PLUGINS) {
    const decl = plugin.discovery;
    if (!decl || values[decl.option] !== true) continue;
    const service = await decl.create({
      listeners: inputs.listeners.filter((l) => l.protocol === plugin.name).map((l) => ({ host: l.host, port: l.port, bus: l.bus })),
      buses: inputs.buses.map((b) => b.name),
      hostname: inputs.hostname,
      log,
    });
    if (service) services.push({ name: decl.name, start: () => service.start(), stop: () => service.stop() });
  }
  return services;
}

/** --log-metrics-interval, reloadable: a SIGHUP may start, change or stop the line. */
function metricsLogService(
  source: MetricsSource,
  intervalMs: number,
  log: (level: 'info', event: string, fields: Record<string, unknown>) => void,
): DaemonService {
  let current = intervalMs;
  let logger: { stop(): void } | null = null;
  let running = false;
  let generation = 0;
  const apply = async (): Promise<void> => {
    const mine = ++generation;
    logger?.stop();
    logger = null;
    if (!running || current <= 0) return;
    const { createMetricsLogger } = await import('../metrics/log-metrics.js');
    // A later reload or stop came while the module loaded: it decides, not this one.
    if (mine !== generation) return;
    const next = createMetricsLogger({ source, intervalMs: current, log });
    next.start();
    logger = next;
  };
  return {
    name: 'log-metrics',
    async start() {
      running = true;
      await apply();
    },
    async stop() {
      running = false;
      await apply();
    },
    async reload(config) {
      if (config.logMetricsInterval === current) return;
      current = config.logMetricsInterval;
      await apply();
    },
  };
}
