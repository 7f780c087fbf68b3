// What `setup` takes from its caller: the CLI's streams and flags (SetupContext) and every
// system access (SetupDeps), so tests run the whole command against a temp root. Shared by
// index.ts and run-rollback.ts.
import type { Readable, Writable } from 'node:stream';
import type { Catalog } from './catalog.js';
import type { Fs } from './io/fs.js';
import type { Runner } from './io/runner.js';
import type { Templates } from './package-files.js';
import type { ReadyResult } from './verify.js';
import type { Asker } from './wizard.js';

/** What setup needs from the CLI (a subset of src/cli/context.ts CliContext). */
export interface SetupContext {
  env: Record<string, string | undefined>;
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  isTTY: boolean;
  isRoot: boolean;
}

export interface SetupDeps {
  fs?: Fs;
  runner?: Runner;
  /** Runner for probe's read-only questions (a dry run allows only those). */
  probeRunner?: Runner;
  now?: () => Date;
  asker?: Asker;
  nodePath?: string;
  runningMain?: string;
  version?: string;
  catalog?: Catalog;
  templates?: Templates;
  waitReady?: (o: { metricsAddr: string; controlSocket: string; timeoutMs: number }) => Promise<ReadyResult>;
  /** One connection to the MQTT broker the answers name: null = fine, else what went wrong (setup then writes nothing). */
  testMqtt?: (url: string) => Promise<string | null>;
  /** Re-runs setup with sudo; resolves with its exit code. */
  elevate?: (args: string[]) => Promise<number>;
}
