// Starts a real daemon in-process for tests: virtual backend(s), TCP on 127.0.0.1 port 0,
// and a logger that records every event so tests can assert on what was logged.
import { createBackends } from '../../src/backends/factory.js';
import type { CanBackend } from '../../src/backends/types.js';
import { type Config, OPTION_NAMES, OPTIONS } from '../../src/config/options.js';
import { createDaemon, type Daemon, type DaemonService, type ServiceInputs } from '../../src/daemon.js';
import { createLogger, type Logger } from '../../src/system/logger.js';

export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = Object.fromEntries(OPTION_NAMES.map((n) => [n, OPTIONS[n].default])) as Record<string, unknown>;
  return Object.freeze({
    ...base,
    backend: 'virtual',
    virtualRate: 0,
    // Test clients share the daemon's event loop (and CI's two cores): frames may wait seconds
    // there without any client being slow. The lag bound has its own tests (test/e2e/fresh-frames).
    clientMaxLag: 60_000,
    listen: { host: '127.0.0.1', port: 0 },
    configFile: null,
    ...overrides,
  }) as Config;
}

export interface LogRecord {
  level: string;
  event: string;
  [k: string]: unknown;
}

export function recordingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = createLogger({
    format: 'json',
    level: 'debug',
    stream: { write: (line: string) => records.push(JSON.parse(line)) },
  });
  return { log, records };
}

export interface TestDaemon {
  daemon: Daemon;
  port: (bus?: number) => number;
  records: LogRecord[];
  stop(): Promise<void>;
}

export async function startTestDaemon(
  overrides: Partial<Config> = {},
  extra: { backends?: (config: Config) => CanBackend[]; services?: (inputs: ServiceInputs) => DaemonService[] | Promise<DaemonService[]> } = {},
): Promise<TestDaemon> {
  const config = testConfig(overrides);
  const { log, records } = recordingLogger();
  const daemon = createDaemon(config, {
    log,
    build: { version: '0.0.0-test', commit: null, date: null },
    hostname: 'testhost',
    controlSocketPath: null,
    createBackends: extra.backends ?? ((c) => createBackends(c)),
    services: extra.services,
  });
  await daemon.start();
  return { daemon, port: (bus = 0) => daemon.port(bus), records, stop: () => daemon.stop() };
}
