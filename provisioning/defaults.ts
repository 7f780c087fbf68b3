// Default answers, derived from what probe found: a re-run offers
// exactly what is installed, a go-ampio-server install offers its own settings, and a fresh
// Pi gets the values an Ampio bus on an MCP2515 HAT needs. Pure.

import { analyzeBootConfig, effectiveBootLines } from './steps/boot-config.js';
import { boardLines, findBoard, type Catalog } from './catalog.js';
import { iniValue } from './diagnose.js';
import { migrateGoEnv } from './migrate.js';
import { PATHS, type Answers, type Facts } from './types.js';
import { parseDuration } from '../src/config/options.js';
import { BUS_PORT, defaultDiscovery, defaultListeners } from './protocols.js';

/**
 * 50 kbit/s (the Ampio bus); txqueuelen 100 (mcp251x keeps one frame in flight, so the
 * qdisc is the only TX buffer: 10 overflows on a burst, 1000+ replays stale commands after
 * an outage); restart-ms 100 (with 0 a bus-off puts the chip to sleep until someone runs
 * ip link). The reason is shown next to each question.
 */
export const HARDWARE_DEFAULTS = {
  bitrate: 50000,
  txqueuelen: 100,
  restartMs: 100,
  listen: BUS_PORT.question.address,
  metricsAddr: '127.0.0.1:9100',
  // 8080: no privilege needed, and port 80 is often taken on a Pi (Pi-hole, a web server).
  httpListen: ':8080',
  // The unit's StateDirectory=: the only place the sandboxed service may write.
  capture: '/var/lib/ampio-bridge/capture.db',
} as const;

export const WHY = {
  bitrate: 'the Ampio bus runs at 50 kbit/s',
  txqueuelen:
    'mcp251x keeps one frame in flight: 10 overflows on a burst, 1000+ replays stale commands for seconds after an outage; 100 holds about 0.3 s at 50 kbit/s',
  restartMs: 'with 0 a bus-off puts the MCP2515 to sleep until someone runs ip link; 100 ms recovers on its own',
  metricsAddr: 'serves /metrics, /ready and /healthz; keep it on 127.0.0.1 unless Prometheus scrapes from elsewhere',
  httpListen:
    'the overview, live frames, the house and the capture history in a browser, read-only unless you also make a write token; only addresses --allow admits reach it; it serves /metrics, /ready and /healthz too',
} as const;

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v);
}

/** systemd time span ("100ms", "1s") → ms; a bare number is seconds in systemd. */
function durationMs(v: string | null): number | undefined {
  if (!v) return undefined;
  try {
    return /^\d+$/.test(v.trim()) ? Number(v.trim()) * 1000 : parseDuration(v);
  } catch {
    return undefined;
  }
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** The board whose overlay lines are all already in config.txt (an earlier manual setup). */
export function guessBoard(catalog: Catalog, bootContent: string | null): string | null {
  if (!bootContent) return null;
  const a = analyzeBootConfig(bootContent);
  if (a.blockBoard && findBoard(catalog, a.blockBoard)) return a.blockBoard;
  // Only lines under [all]: a line under [cm5] says nothing certain about this board.
  const present = new Set(
    effectiveBootLines(bootContent)
      .filter((l) => l.startsWith('[all] '))
      .map((l) => l.slice('[all] '.length)),
  );
  let best: string | null = null;
  let bestCount = 0;
  for (const b of catalog.boards) {
    if (b.params) continue; // a template matches nothing exactly
    const overlays = boardLines(b).filter((l) => l.startsWith('dtoverlay='));
    if (overlays.length > bestCount && overlays.every((l) => present.has(l))) {
      best = b.id;
      bestCount = overlays.length;
    }
  }
  return best;
}

/** oscillator/interrupt of a generic MCP2515 line already in our block. */
function genericParams(bootContent: string | null): { oscillator?: number; interrupt?: number } {
  if (!bootContent) return {};
  const a = analyzeBootConfig(bootContent);
  for (const l of a.blockLines) {
    const m = /^dtoverlay=mcp2515-can0,oscillator=(\d+),interrupt=(\d+)$/.exec(l);
    if (m) return { oscillator: Number(m[1]), interrupt: Number(m[2]) };
  }
  return {};
}

export function defaultAnswers(facts: Facts, catalog: Catalog): Answers {
  const cfg = facts.existing.config ?? {};
  const go = facts.goServer ? migrateGoEnv(facts.goServer.env).byOption : {};
  const network = facts.files[PATHS.network] ?? facts.files[PATHS.manualNetwork] ?? null;
  const link = facts.files[PATHS.link] ?? null;

  const backendRaw = str(cfg.backend) ?? go.backend;
  const backend: Answers['backend'] = backendRaw === 'serial' ? 'serial' : 'socketcan';
  const boardId = guessBoard(catalog, facts.boot.content) ?? catalog.default;
  const board = findBoard(catalog, boardId) ?? catalog.boards[0];

  const ifRaw = str(cfg['can-if']) ?? go.canIf;
  let interfaces = ifRaw
    ? ifRaw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : board.interfaces.map((i) => i.name);
  if (interfaces.length === 0) interfaces = ['can0'];

  const restartMs = durationMs(iniValue(network, 'CAN', 'RestartSec'));
  const mdnsRaw = str(cfg['mdns-enable']) ?? go.mdnsEnable;

  return {
    backend,
    board: board.id,
    ...genericParams(facts.boot.content),
    interfaces,
    bitrate: num(cfg.bitrate) ?? num(iniValue(network, 'CAN', 'BitRate')) ?? facts.canLinks?.find((l) => l.bitrate)?.bitrate ?? HARDWARE_DEFAULTS.bitrate,
    txqueuelen: num(iniValue(link, 'Link', 'TransmitQueueLength')) ?? HARDWARE_DEFAULTS.txqueuelen,
    restartMs: num(restartMs) ?? HARDWARE_DEFAULTS.restartMs,
    listen: str(cfg.listen) ?? go.listen ?? HARDWARE_DEFAULTS.listen,
    maxClients: num(cfg['max-clients']) ?? num(go.maxClients) ?? 0,
    hubPolicy: (str(cfg['hub-policy']) ?? go.hubPolicy) === 'kick' ? 'kick' : 'drop',
    mdns: mdnsRaw === undefined ? true : /^(1|true|yes|on)$/i.test(mdnsRaw),
    listeners: defaultListeners(cfg),
    // Broadcast reaches the whole LAN: off unless the installed config has it on.
    discovery: defaultDiscovery(cfg),
    metricsAddr: str(cfg['metrics-addr']) ?? go.metricsAddr ?? HARDWARE_DEFAULTS.metricsAddr,
    // An install without the key predates the web page: offer it.
    // go-ampio-server's metrics address stays where its Prometheus scrapes it: the one HTTP
    // server (the page included) takes it over.
    httpListen: cfg['http-listen'] === undefined ? (go.metricsAddr ?? HARDWARE_DEFAULTS.httpListen) : (str(cfg['http-listen']) ?? ''),
    // "No" writes no key, so an installed config without it means off (or an install from
    // before capture, which has run without it): a re-run keeps that instead of switching
    // on SD-card writes behind the user's back. A fresh install offers it on.
    capture: facts.existing.config === null ? HARDWARE_DEFAULTS.capture : (str(cfg.capture) ?? ''),
    serial: str(cfg.serial) ?? go.serial ?? facts.serialDevices[0] ?? '/dev/ttyUSB0',
    migrate: facts.goServer !== null,
    ...(str(cfg.allow) !== undefined ? { allow: str(cfg.allow) } : {}),
    ...(str(cfg['tx-rate']) !== undefined ? { txRate: str(cfg['tx-rate']) } : {}),
    ...(str(cfg['mqtt-url']) !== undefined ? { mqttUrl: str(cfg['mqtt-url']) } : {}),
  };
}
