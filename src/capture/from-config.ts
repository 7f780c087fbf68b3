// `serve --capture PATH [--pg-url …]` → the capture service (tap + worker). Loaded only when
// capture is on, so `serve` without it never loads SQLite, pg or the worker.
import type { Config } from '../config/options.js';
import type { Logger } from '../system/logger.js';
import { redactUrl } from './pg-schema.js';
import { CaptureService } from './service.js';

export function createCaptureService(config: Config, deps: { log: Logger; hostname: string }): CaptureService {
  const log = deps.log;
  return new CaptureService({
    path: config.capture,
    commitIntervalMs: config.captureCommitInterval,
    retentionMs: config.captureRetention,
    maxBytes: config.captureMaxSize,
    drops: config.captureDrops,
    // The password may sit in the URL, PGPASSWORD or ~/.pgpass (pg reads both); only the redacted form is ever shown.
    forward: config.pgUrl ? { url: config.pgUrl, table: config.pgTable, display: redactUrl(config.pgUrl) } : null,
    hostname: deps.hostname,
    log: (level, event, fields) => log[level](event, fields),
  });
}
