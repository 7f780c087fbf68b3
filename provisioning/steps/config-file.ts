// /etc/ampio-bridge/config.json, keyed by the daemon's own flag names (the only
// daemon module provisioning imports is the options table). Values are
// checked with the table's parsers and written in the table's text form; whole numbers and
// booleans as JSON numbers and booleans.

import { OPTIONS, formatOptionValue, type OptionName, type OptionSpec } from '../../src/config/options.js';
import { BUS_PORT, DIALS, OFFERED } from '../protocols.js';
import type { Answers } from '../types.js';

export class AnswerError extends Error {
  readonly code = 'SETUP_BAD_ANSWER';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** Parses `raw` with the option's own parser and returns the value in config-file form. */
export function configValue(name: OptionName, raw: string): string | number | boolean {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  let value: unknown;
  try {
    value = spec.parse(raw);
  } catch (err) {
    throw new AnswerError(`--${spec.flag} ${JSON.stringify(raw)}: ${(err as Error).message}`, `expected ${spec.expected}`);
  }
  if (spec.kind === 'int') return value as number;
  if (spec.kind === 'bool') return value as boolean;
  return formatOptionValue(name, value);
}

/** The keys setup decides, in the order they appear in the file. */
export function answerEntries(a: Answers): [OptionName, string][] {
  const e: [OptionName, string][] = [['backend', a.backend]];
  if (a.backend === 'socketcan') e.push(['canIf', a.interfaces.join(',')]);
  else e.push(['serial', a.serial]);
  e.push(
    ['bitrate', String(a.bitrate)],
    [BUS_PORT.option, a.listen],
    ['maxClients', String(a.maxClients)],
    ['hubPolicy', a.hubPolicy],
    ['mdnsEnable', String(a.mdns)],
    // One HTTP server: the web page's address, or (without it) the metrics address.
    a.httpListen.trim() !== '' ? ['httpListen', a.httpListen] : ['metricsAddr', a.metricsAddr],
  );
  for (const p of OFFERED) {
    const listen = (a.listeners[p.option] ?? '').trim();
    // Written when on; when off only where "no" must survive a re-run (keepOff), so installs
    // that never said yes keep their file unchanged.
    if (listen !== '' || p.question.keepOff) e.push([p.option, listen]);
    // A broadcast to the whole LAN: on only when asked for, and only with its listener.
    if (p.discoveryOption) e.push([p.discoveryOption, String(a.discovery?.[p.discoveryOption] === true && listen !== '')]);
  }
  for (const d of DIALS) {
    const target = (a.listeners[d.option] ?? '').trim();
    if (target !== '') e.push([d.option, target]);
  }
  if (a.capture.trim() !== '') e.push(['capture', a.capture]);
  if (a.mqttUrl?.trim()) e.push(['mqttUrl', a.mqttUrl.trim()]);
  if (a.httpTokenHash) e.push(['httpTokenHash', a.httpTokenHash]);
  // Only when they differ from the daemon's defaults, so an install that keeps them has a
  // config file without them (and picks up a better default in a later version).
  if (a.allow !== undefined && a.allow !== 'local') e.push(['allow', a.allow]);
  if (a.txRate !== undefined && a.txRate !== '0') e.push(['txRate', a.txRate]);
  // Only when given (a flag): an install that never set it keeps the daemon's default.
  if (a.canRcvbuf !== undefined && a.backend === 'socketcan') e.push(['canRcvbuf', String(a.canRcvbuf)]);
  return e;
}

/**
 * The file's contents: setup's answers first, then every other key already in the file
 * (someone's "log-level": "debug" survives a re-run), then settings migrated from
 * go-ampio-server that the file does not have yet.
 */
export function buildConfigStore(
  a: Answers,
  existing: Record<string, unknown> | null,
  migrated: Record<string, string | number | boolean>,
): Record<string, unknown> {
  const store: Record<string, unknown> = {};
  for (const [name, raw] of answerEntries(a)) store[OPTIONS[name].flag] = configValue(name, raw);
  // A protocol or capture answered "no": an earlier key must not survive as an "other key".
  const dropped = new Set<string>();
  for (const p of OFFERED) if ((a.listeners[p.option] ?? '').trim() === '' && !p.question.keepOff) dropped.add(p.flag);
  for (const d of DIALS) if ((a.listeners[d.option] ?? '').trim() === '') dropped.add(d.flag);
  if (a.capture.trim() === '') dropped.add(OPTIONS.capture.flag);
  if (a.mqttUrl !== undefined && a.mqttUrl.trim() === '') dropped.add(OPTIONS.mqttUrl.flag);
  // Back to the daemon's default (no key is written for it): a key from before must go too,
  // or `setup --allow local` would leave an install open to any address.
  if (a.allow === undefined || a.allow === 'local') dropped.add(OPTIONS.allow.flag);
  if (a.txRate === undefined || a.txRate === '0') dropped.add(OPTIONS.txRate.flag);
  // The web page took over /metrics: an old metrics-addr would name a second address (refused).
  if (a.httpListen.trim() !== '') dropped.add(OPTIONS.metricsAddr.flag);
  else dropped.add(OPTIONS.httpListen.flag);
  if (a.httpToken === 'off' || a.httpListen.trim() === '') dropped.add(OPTIONS.httpTokenHash.flag);
  for (const [k, v] of Object.entries(existing ?? {})) if (!(k in store) && !dropped.has(k)) store[k] = v;
  for (const [k, v] of Object.entries(migrated)) if (!(k in store) && !dropped.has(k)) store[k] = v;
  return store;
}
