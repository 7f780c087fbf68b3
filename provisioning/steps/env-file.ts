// /etc/default/ampio-bridge: an EnvironmentFile for overrides. Created once with comments
// only and never rewritten, so whatever someone puts there survives every re-run.

import type { Templates } from '../package-files.js';
import { managedHeader, renderTemplate } from './render.js';

export function renderEnvFile(t: Templates, o: { version: string }): string {
  return renderTemplate(t['ampio-bridge.env'], { header: managedHeader(o.version) });
}
