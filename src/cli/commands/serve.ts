// `ampio-bridge serve`: what systemd runs. Config → daemon → wait for a signal → exit code.
// A start-up failure exits non-zero (unlike go-ampio-server, which exited 0 and so defeated
// systemd's Restart=on-failure).
import os from 'node:os';
import { createBackends } from '../../backends/factory.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/options.js';
import { resolveControlSocket } from '../../control/socket-path.js';
import { ControlSocketError, prepareSocketFile } from '../../control/unix-socket.js';
import { createDaemon, createStandardServices } from '../../daemon.js';
import { readBuildInfo } from '../../system/build-info.js';
import { createLogger, isJournalStream } from '../../system/logger.js';
import { createSdNotify, startWatchdog } from '../../system/sd-notify.js';
import { type CliContext, EXIT } from '../context.js';
import { renderServeHelp } from '../help.js';

/** The whole shutdown is time-boxed: systemd's stop must stay well under its timeout. */
const SHUTDOWN_BUDGET_MS = 2000;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const loaded = loadConfig({ argv: args, env: ctx.env, isRoot: ctx.isRoot, cwd: ctx.cwd });
  if (!loaded.ok) {
    for (const e of loaded.errors) ctx.stderr.write(`ampio-bridge serve: ${e.message}\n`);
    ctx.stderr.write(
      `${loaded.errors.length} problem${loaded.errors.length === 1 ? '' : 's'} in the configuration; nothing was started. See: ampio-bridge serve --help\n`,
    );
    return EXIT.usage;
  }
  if (loaded.help) {
    ctx.stdout.write(renderServeHelp({ width: ctx.stdout.columns }));
    return EXIT.ok;
  }
  const config = loaded.config;
  const log = createLogger({ format: config.logFormat, level: config.logLevel, stream: ctx.stderr, journal: isJournalStream(ctx.env, ctx.stderr) });
  for (const w of loaded.warnings) log.warn('config_warning', { message: w });
  if (config.backend === 'virtual') {
    log.warn('virtual_backend', { message: 'serving a simulated bus (--backend virtual): no real CAN frames' });
  }

  const notify = createSdNotify(ctx.env, (e) => log.warn('sd_notify_failed', { error: e }));
  let stopWatchdog = () => {};
  const controlSocketPath = resolveControlSocket({ flag: config.controlSocket, env: ctx.env, role: 'daemon' }).path;
  // The control socket's path and directory are configuration: checked before anything is
  // opened (a backend, a capture store), so a bad one exits 2 at once and systemd stops
  // restarting (RestartPreventExitStatus=2). The control service checks again when it binds.
  try {
    await prepareSocketFile(controlSocketPath, {
      uid: typeof process.getuid === 'function' ? process.getuid() : 0,
      log: (level, event, fields) => log[level](event, fields),
    });
  } catch (err) {
    const e = err as Error & { hint?: string; code?: string };
    log.error('startup_failed', { error: e.message, code: e.code, hint: e.hint });
    return isConfigurationFailure(err) ? EXIT.usage : EXIT.failure;
  }
  const capture = config.capture ? (await import('../../capture/from-config.js')).createCaptureService(config, { log, hostname: os.hostname() }) : null;
  // The house layer (decoder, inventory, state store); its `view` is what MQTT and the web page read.
  const ampio = config.ampio ? (await import('../../ampio/service.js')).createAmpioService(config, { log }) : null;
  const daemon = createDaemon(config, {
    log,
    build: readBuildInfo(),
    hostname: os.hostname(),
    controlSocketPath,
    createBackends: (c: Config) => createBackends(c, { log }),
    // Capture first, so it is stopped last. A store it cannot use never stops the bridge:
    // capture goes off with the reason (status, top, metrics, log) and SIGHUP retries it.
    services: async (d) => [
      ...(capture ? [capture] : []),
      ...(ampio ? [ampio] : []),
      // MQTT reads the house from the ampio service; it connects nowhere unless --mqtt-url is set.
      ...(config.mqttUrl
        ? [
            (await import('../../mqtt/from-config.js')).createMqttService(d, {
              view: ampio?.view ?? null,
              encoders: ampio ? (await import('../../ampio/commands.js')).ampioCommands : null,
            }),
          ]
        : []),
      ...(await createStandardServices(d, { controlSocketPath, env: ctx.env, reload, ampio: ampio?.view })),
    ],
    onReady: () => {
      notify('ready', `serving ${config.canIf.join(',')}`);
      stopWatchdog = startWatchdog(ctx.env, notify);
    },
  });

  /** SIGHUP, and the web page's reload: re-read the configuration, apply what may change live. */
  function reload(): string[] {
    const next = loadConfig({ argv: args, env: ctx.env, isRoot: ctx.isRoot, cwd: ctx.cwd });
    if (!next.ok) {
      const problems = next.errors.map((e) => e.message).join('; ');
      log.error('reload_failed', { problems });
      throw new Error(`the configuration has problems, nothing was changed: ${problems}`);
    }
    log.reconfigure({ format: next.config.logFormat, level: next.config.logLevel });
    const changed = daemon.reload(next.config);
    log.info('reload', { changed: changed.join(',') || 'nothing' });
    return changed;
  }

  // Signals are subscribed before starting, so a SIGTERM during start-up still stops cleanly.
  let stopRequested: (signal: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (stopRequested = resolve));
  const unsubscribe = [
    ctx.signals.on('SIGINT', (s) => stopRequested(s)),
    ctx.signals.on('SIGTERM', (s) => stopRequested(s)),
    ctx.signals.on('SIGHUP', () => {
      try {
        reload();
      } catch {
        // logged as reload_failed
      }
    }),
  ];

  try {
    const started = daemon.start();
    const first = await Promise.race([started.then(() => null), stopSignal]);
    if (first !== null) {
      await started.catch(() => {});
      log.info('shutdown_signal', { signal: first });
      stopWatchdog();
      await daemon.stop();
      return EXIT.ok;
    }
  } catch (err) {
    const e = err as Error & { hint?: string; code?: string };
    // One record with the message and its hint: the log goes to the same stderr (and the
    // journal), so a second plain-text copy would say everything twice.
    log.error('startup_failed', { error: e.message, code: e.code, hint: e.hint });
    stopWatchdog();
    for (const u of unsubscribe) u();
    return isConfigurationFailure(err) ? EXIT.usage : EXIT.failure;
  }

  const signal = await stopSignal;
  log.info('shutdown_signal', { signal });
  stopWatchdog();
  notify('stopping');
  const stopped = await Promise.race([daemon.stop().then(() => true), delay(SHUTDOWN_BUDGET_MS).then(() => false)]);
  // Counted after the stop: the buses are still by then, so the figures are final.
  const before = daemon.snapshot();
  const counters = daemon.counters();
  log.info('shutdown_summary', {
    uptime_s: Math.round(before.daemon.uptimeSec),
    accepted: before.totals.accepted,
    rejected: before.totals.rejected,
    kicked: before.totals.kicked,
    rx_frames: before.buses.reduce((n, b) => n + b.rxFrames, 0),
    tx_frames: before.buses.reduce((n, b) => n + b.txFrames, 0),
    tcp_tx_frames: counters.tcpTxFrames,
    hub_drops: before.totals.hubDrops,
    clean: stopped,
  });
  for (const u of unsubscribe) u();
  return EXIT.ok;
}

/**
 * A control socket path that is too long, a directory that is missing, unsafe or on /proc,
 * a file in the way: only the operator can fix these. (A socket another daemon holds, or a
 * listen that failed, may clear up: those stay run-time failures.)
 */
const CONTROL_SOCKET_CONFIGURATION: ReadonlySet<string> = new Set([
  'control_socket_path',
  'control_socket_dir',
  'control_socket_unsafe_dir',
  'control_socket_not_socket',
]);

/**
 * A start-up failure that restarting cannot fix: an address that names no interface of
 * this machine, or a host name that does not resolve. Exit 2 like any other configuration
 * error (the unit does not restart on 2). A temporary DNS failure (EAI_AGAIN, common while
 * the network comes up at boot) stays a run-time failure, so systemd retries it.
 */
export function isConfigurationFailure(error: unknown): boolean {
  if (error instanceof ControlSocketError && CONTROL_SOCKET_CONFIGURATION.has(error.code)) return true;
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOTFOUND' || e.code === 'EADDRNOTAVAIL') return true;
    if (e.code === 'EAI_AGAIN') return false;
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
