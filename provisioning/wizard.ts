// The questions of `setup`. The only module that imports inquirer;
// it only collects answers. Every question is skipped when its flag was given, and defaults
// come from what probe found, with the reason shown for the hardware numbers.

import type { Readable, Writable } from 'node:stream';
import { OPTIONS, suggestTxRate } from '../src/config/options.js';
import { findBoard, type Catalog } from './catalog.js';
import { HARDWARE_DEFAULTS, WHY } from './defaults.js';
import { BUS_PORT, DIALS, freeAddress, mergeAnswers, OFFERED } from './protocols.js';
import type { Answers, Facts } from './types.js';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

/** The prompt port: inquirer in production, a scripted asker where a test wants one. */
export interface Asker {
  select<T>(message: string, choices: Choice<T>[], def: T): Promise<T>;
  input(message: string, def: string, validate?: (v: string) => true | string): Promise<string>;
  confirm(message: string, def: boolean): Promise<boolean>;
}

/** Raised when the person presses Ctrl-C in a prompt. */
export class WizardCancelledError extends Error {
  readonly code = 'SETUP_CANCELLED';
  readonly hint = 'nothing was changed; run `ampio-bridge setup` again when ready';
  constructor() {
    super('setup cancelled');
  }
}

export async function inquirerAsker(io: { input: Readable; output: Writable }): Promise<Asker> {
  const { createPromptModule } = await import('inquirer');
  const prompt = createPromptModule({ input: io.input, output: io.output });
  // One question per call keeps the control flow (what to ask next) in plain code.
  const ask = async <T>(q: Record<string, unknown>): Promise<T> => {
    try {
      const r = (await (prompt as unknown as (qs: unknown[]) => Promise<{ v: T }>)([{ ...q, name: 'v' }])) as { v: T };
      return r.v;
    } catch (err) {
      if ((err as Error)?.name === 'ExitPromptError') throw new WizardCancelledError();
      throw err;
    }
  };
  return {
    select: (message, choices, def) => ask({ type: 'select', message, choices, default: def, loop: false }),
    input: (message, def, validate) => ask({ type: 'input', message, default: def, validate }),
    confirm: (message, def) => ask({ type: 'confirm', message, default: def }),
  };
}

const validWith =
  (parse: (raw: string) => unknown) =>
  (v: string): true | string => {
    try {
      parse(v);
      return true;
    } catch (err) {
      return (err as Error).message;
    }
  };

/** Said before "Who may connect?", as the metrics question says where /metrics is served. */
export const BUS_PORT_WARNING =
  'The bus port has no password (none of the CAN-over-TCP protocols has one): whoever can connect can switch lights, open blinds and disarm the alarm.';

const wholeNumber =
  (min: number, max: number) =>
  (v: string): true | string =>
    /^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max ? true : `a whole number ${min}..${max}`;

/**
 * Asks for everything not given on the command line. `given` holds the flag answers;
 * `defaults` what probe suggests. Returns complete answers.
 */
export async function askAnswers(
  ask: Asker,
  facts: Facts,
  catalog: Catalog,
  defaults: Answers,
  given: Partial<Answers>,
  out?: (line: string) => void,
): Promise<Answers> {
  const a: Answers = mergeAnswers(defaults, given);
  const has = (k: keyof Answers) => given[k] !== undefined;

  if (!has('backend')) {
    a.backend = await ask.select(
      'How is the Pi connected to the Ampio bus?',
      [
        { name: 'CAN HAT on the Pi (SocketCAN, e.g. Waveshare 2-CH CAN HAT)', value: 'socketcan' as const },
        { name: `Ampio USB-CAN adapter (serial)${facts.serialDevices.length ? `: ${facts.serialDevices.length} found` : ''}`, value: 'serial' as const },
      ],
      defaults.backend,
    );
  }

  if (a.backend === 'socketcan') {
    if (!has('board')) {
      a.board = await ask.select(
        'Which CAN HAT?',
        catalog.boards.map((b) => ({ name: `${b.name}${b.verified ? '' : ' (lines not verified)'}`, value: b.id, description: b.notes })),
        findBoard(catalog, defaults.board) ? defaults.board : catalog.default,
      );
    }
    const board = findBoard(catalog, a.board) ?? catalog.boards[0];
    if (board.params?.oscillator && !has('oscillator')) {
      const p = board.params.oscillator;
      a.oscillator = await ask.select(
        `Crystal on the board (${p.help})`,
        (p.choices ?? [p.default]).map((hz) => ({ name: `${hz / 1e6} MHz`, value: hz })),
        a.oscillator ?? p.default,
      );
    }
    if (board.params?.interrupt && !has('interrupt')) {
      const p = board.params.interrupt;
      a.interrupt = Number(await ask.input(`Interrupt GPIO (${p.help})`, String(a.interrupt ?? p.default), wholeNumber(0, 27)));
    }
    if (!has('interfaces')) {
      const names = board.interfaces.map((i) => i.name);
      if (names.length > 1) {
        const choices = [
          { name: `${names.join(' and ')} (both channels)`, value: names.join(',') },
          ...board.interfaces.map((i) => ({
            name: `${i.name} only (${i.spi}${i.connector !== 'unverified' ? `, connector ${i.connector}` : ''})`,
            value: i.name,
          })),
        ];
        const def = a.interfaces.filter((n) => names.includes(n)).join(',');
        a.interfaces = (await ask.select('Which channels?', choices, choices.some((c) => c.value === def) ? def : names.join(','))).split(',');
      } else a.interfaces = names;
    }
    if (!has('bitrate'))
      a.bitrate = Number(
        await ask.input(
          `Bus bitrate in bit/s (${WHY.bitrate})`,
          String(a.bitrate),
          validWith((v) => OPTIONS.bitrate.parse(v)),
        ),
      );
    if (!has('txqueuelen')) a.txqueuelen = Number(await ask.input(`TX queue length (${WHY.txqueuelen})`, String(a.txqueuelen), wholeNumber(1, 100000)));
    if (!has('restartMs')) a.restartMs = Number(await ask.input(`Bus-off restart in ms (${WHY.restartMs})`, String(a.restartMs), wholeNumber(0, 60000)));
  } else if (!has('serial')) {
    const other = '\u0000other';
    const found = facts.serialDevices.map((d) => ({ name: d, value: d }));
    let dev = found.length
      ? await ask.select(
          'Which serial device is the Ampio adapter?',
          [...found, { name: 'another path…', value: other }],
          found.some((f) => f.value === a.serial) ? a.serial : found[0].value,
        )
      : other;
    if (dev === other)
      dev = await ask.input(
        'Serial device path (best /dev/serial/by-id/…)',
        a.serial,
        validWith((v) => OPTIONS.serial.parse(v)),
      );
    a.serial = dev;
  }

  if (!has('listen'))
    a.listen = await ask.input(
      BUS_PORT.question.question,
      a.listen,
      validWith((v) => OPTIONS[BUS_PORT.option].parse(v)),
    );
  if (!has('allow')) {
    out?.(BUS_PORT_WARNING);
    a.allow = await ask.select(
      'Who may connect?',
      [
        { name: 'local network only (private and link-local addresses, this Pi)', value: 'local' },
        { name: 'this Pi only (127.0.0.1 and ::1: for programs on the Pi or an SSH tunnel)', value: 'loopback' },
        { name: 'anyone who can reach the port (no password: only behind a firewall or VPN)', value: 'any' },
      ],
      ['local', 'loopback', 'any'].includes(a.allow ?? 'local') ? (a.allow ?? 'local') : 'local',
    );
  }
  if (!has('txRate')) {
    const s = suggestTxRate(a.bitrate);
    const text = `${s.rate}/${s.burst}`;
    const limit = await ask.confirm(
      `Limit how fast one client may send to the bus? (${s.rate} frames/s, bursts of ${s.burst}: half of what ${a.bitrate / 1000} kbit/s carries)`,
      a.txRate !== undefined && a.txRate !== '0',
    );
    a.txRate = limit ? (a.txRate !== undefined && a.txRate !== '0' ? a.txRate : text) : '0';
  }
  if (!has('maxClients')) a.maxClients = Number(await ask.input('Maximum clients per bus (0 = unlimited)', String(a.maxClients), wholeNumber(0, 100000)));
  if (!has('hubPolicy')) {
    a.hubPolicy = await ask.select(
      'A client that cannot keep up:',
      [
        { name: 'drop: skip frames for that client (counted), keep it connected', value: 'drop' as const },
        { name: 'kick: disconnect it', value: 'kick' as const },
      ],
      a.hubPolicy,
    );
  }
  // Each protocol setup offers, in registry order; a yes gets free ports (two buses take two).
  for (const p of OFFERED) {
    if (given.listeners?.[p.option] !== undefined) continue;
    const address = freeAddress(p, a);
    const port = address.slice(address.lastIndexOf(':') + 1);
    const on = await ask.confirm(p.question.question.replace('{port}', port), a.listeners[p.option] !== '');
    a.listeners = { ...a.listeners, [p.option]: on ? address : '' };
  }
  // Servers to dial out to (a Pi behind a router reaching a bench or a server): off unless typed.
  for (const d of DIALS) {
    if (given.listeners?.[d.option] !== undefined) continue;
    const target = (
      await ask.input(
        d.question,
        a.listeners[d.option] ?? '',
        validWith((v) => OPTIONS[d.option].parse(v)),
      )
    ).trim();
    a.listeners = { ...a.listeners, [d.option]: target };
  }
  // Discovery broadcasts reach the whole LAN: asked (default what is installed, else no), only
  // for a protocol that is served.
  for (const p of OFFERED) {
    const option = p.discoveryOption;
    if (!option || !p.question.discoveryQuestion) continue;
    if ((a.listeners[p.option] ?? '').trim() === '') a.discovery = { ...a.discovery, [option]: false };
    else if (given.discovery?.[option] === undefined)
      a.discovery = { ...a.discovery, [option]: await ask.confirm(p.question.discoveryQuestion, a.discovery?.[option] === true) };
  }
  if (!has('mdns')) a.mdns = await ask.confirm('Advertise the bridge on the local network (mDNS)?', a.mdns);
  if (!has('capture')) {
    const on = await ask.confirm(
      `Keep a history of every bus frame on this Pi (ampio-bridge capture query --since 1h; ${HARDWARE_DEFAULTS.capture}, at most 7 days and 1 GB)?`,
      a.capture !== '',
    );
    a.capture = on ? a.capture || HARDWARE_DEFAULTS.capture : '';
  }
  if (!has('mqttUrl')) {
    // Tested before anything is written (setup connects once and says what went wrong).
    a.mqttUrl = (
      await ask.input(
        'Publish the house to an MQTT broker (Home Assistant finds it by discovery)? Its URL like mqtt://user:password@192.168.1.10:1883 (mqtts:// for TLS); empty = off',
        a.mqttUrl ?? '',
        validWith((v) => OPTIONS.mqttUrl.parse(v)),
      )
    ).trim();
  }
  if (!has('httpListen')) {
    const on = await ask.confirm(`Serve the web page on the local network, port 8080 (${WHY.httpListen})?`, a.httpListen !== '');
    a.httpListen = on ? a.httpListen || HARDWARE_DEFAULTS.httpListen : '';
  }
  if (a.httpListen !== '' && !has('httpToken')) {
    const had =
      facts.existing.config !== null && typeof facts.existing.config['http-token-hash'] === 'string' && facts.existing.config['http-token-hash'] !== '';
    const on = await ask.confirm('Allow changes from the web page (send frames, switch outputs, kick clients) to whoever has a write token?', had);
    a.httpToken = on ? (had ? undefined : 'new') : 'off';
  }
  // The web server serves /metrics too: one address (the old question only without it).
  if (a.httpListen === '' && !has('metricsAddr'))
    a.metricsAddr = (
      await ask.input(
        `Metrics address (${WHY.metricsAddr}; empty = off)`,
        a.metricsAddr,
        validWith((v) => OPTIONS.metricsAddr.parse(v)),
      )
    ).trim();
  if (facts.goServer && !has('migrate')) {
    a.migrate = await ask.confirm('go-ampio-server is installed: take over its settings and disable can-server.service? (its files stay)', true);
  }
  return a;
}
