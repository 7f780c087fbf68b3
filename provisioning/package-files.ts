// Where the package's data files are at run time. The code runs from provisioning/*.ts
// (vitest) or dist/provisioning/*.js (built, npm pack, npx), so locate the package root by
// walking up to our package.json instead of hard-coding a depth.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../src/system/package-root.js';

let cached: string | null = null;

export function packageDir(): string {
  if (cached) return cached;
  cached = findPackageRoot(import.meta.url);
  if (!cached) throw new Error(`cannot find the ampio-bridge package root (package.json) above ${fileURLToPath(import.meta.url)}`);
  return cached;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

export type TemplateName =
  | 'ampio-bridge.service'
  | 'ampio-bridge.env'
  | '80-ampio-can.network'
  | '80-ampio-can.link'
  | '90-ampio-can.rules'
  | '90-ampio-can.conf'
  | '60-ampio-bridge.conf';
export const TEMPLATE_NAMES: TemplateName[] = [
  'ampio-bridge.service',
  'ampio-bridge.env',
  '80-ampio-can.network',
  '80-ampio-can.link',
  '90-ampio-can.rules',
  '90-ampio-can.conf',
  '60-ampio-bridge.conf',
];
export type Templates = Record<TemplateName, string>;

/** Reads provisioning/templates/ (shipped as source text, see package.json "files"). */
export function loadTemplates(dir = path.join(packageDir(), 'provisioning', 'templates')): Templates {
  const out = {} as Templates;
  for (const name of TEMPLATE_NAMES) out[name] = readFileSync(path.join(dir, name), 'utf8');
  return out;
}
