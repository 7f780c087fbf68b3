// `ampio-bridge status [--json] [--control-socket PATH]`: one snapshot of the running bridge.
// Human form: aligned tables, coloured only on a terminal (NO_COLOR respected). --json: the
// control-socket Snapshot as-is (stable keys, see src/control/protocol.ts).
// Exit codes: 0 ok, 1 the daemon answered badly, 2 bad flags, 3 bridge not reachable.
import { parseArgs } from 'node:util';
import type { BusSnapshot, ClientSnapshot, Snapshot } from '../../control/protocol.js';
import { describeCapture } from '../../control/describe-capture.js';
import { describeMqtt } from '../../control/mqtt-snapshot.js';
import { describeAmpio } from '../../ampio/present.js';
import { type CliContext, EXIT } from '../context.js';
import { connectOrExit } from '../daemon-connect.js';
import { parseDurationFlag, reportUnknownFlags } from '../flags.js';
import {
  BUS_LOAD_ERROR,
  BUS_LOAD_WARN,
  busStateSeverity,
  busWarnings,
  backendSeverity,
  formatBitrate,
  type Severity,
  sumValues,
} from '../../control/present.js';

const OPTIONS = {
  json: { type: 'boolean' },
  'control-socket': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const STATUS_HELP = `Usage: ampio-bridge status [--json] [--control-socket PATH]

One reading of the running bridge: daemon, buses (state, load, frame counts, errors,
drops), connected clients and totals.

Flags:
  --json                  print the snapshot as JSON (stable keys)
  --control-socket <path> the daemon's control socket (default: $AMPIO_BRIDGE_CONTROL_SOCKET,
                          else /run/ampio-bridge/control.sock when the service runs,
                          else the one serve uses for this user)
  --timeout <duration>    how long to wait for the daemon, e.g. 3s or 500ms; a bare number is seconds (default 3s)
  -h, --help              show this help

Exit codes: 0 ok, 1 the daemon answered with an error, 2 bad flags, 3 bridge not reachable.
NO_COLOR=1 turns colours off.
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, tokens } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags('status', tokens, OPTIONS, ctx)) return EXIT.usage;
  if (values.help) {
    ctx.stdout.write(STATUS_HELP);
    return EXIT.ok;
  }
  let timeoutMs = 3000;
  if (typeof values.timeout === 'string') {
    const parsed = parseDurationFlag('status', 'timeout', values.timeout, { min: 100, max: 600_000, example: '3s or 500ms' }, ctx);
    if (parsed === null) return EXIT.usage;
    timeoutMs = parsed;
  }
  const client = await connectOrExit('status', ctx, values['control-socket'], timeoutMs);
  if (typeof client === 'number') return client;
  let snapshot: Snapshot;
  try {
    snapshot = await client.snapshot();
  } catch (err) {
    ctx.stderr.write(`ampio-bridge status: ${(err as Error).message}\n`);
    return EXIT.failure;
  } finally {
    client.close();
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
    return EXIT.ok;
  }
  const color = ctx.isTTY && !(ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== '');
  ctx.stdout.write(formatStatus(snapshot, { color }));
  return EXIT.ok;
}

// ---------------------------------------------------------------- formatting (pure)

type Paint = (text: string) => string;
interface Palette {
  good: Paint;
  warn: Paint;
  bad: Paint;
  dim: Paint;
  bold: Paint;
}

const ansi =
  (open: number, close: number): Paint =>
  (t) =>
    `\u001b[${open}m${t}\u001b[${close}m`;
const PLAIN: Palette = { good: (t) => t, warn: (t) => t, bad: (t) => t, dim: (t) => t, bold: (t) => t };
const COLOURS: Palette = { good: ansi(32, 39), warn: ansi(33, 39), bad: ansi(31, 39), dim: ansi(2, 22), bold: ansi(1, 22) };

export function formatDurationShort(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '-';
  if (sec < 10) return `${sec.toFixed(1)}s`;
  const s = Math.floor(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** The same severities as `top` (src/control/present.ts), painted for a terminal. */
function stateColour(p: Palette, s: BusSnapshot['busState'] | BusSnapshot['backendState']): Paint {
  const isBackend = s === 'open' || s === 'opening' || s === 'closed';
  return paintFor(p, isBackend ? backendSeverity(s as BusSnapshot['backendState']) : busStateSeverity(s as BusSnapshot['busState']));
}

function paintFor(p: Palette, severity: Severity): Paint {
  return severity === 'ok' ? p.good : severity === 'warn' ? p.warn : severity === 'error' ? p.bad : p.dim;
}

interface Cell {
  text: string;
  paint?: Paint;
  right?: boolean;
}

/** Pads on plain text, paints after, so colour codes never break the alignment. */
function table(header: string[], rows: Cell[][], p: Palette, rightCols: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].text.length)));
  const line = (cells: Cell[], isHeader: boolean): string =>
    cells
      .map((c, i) => {
        const last = i === cells.length - 1;
        const padded = rightCols.has(i) ? c.text.padStart(widths[i]) : last ? c.text : c.text.padEnd(widths[i]);
        return isHeader ? p.dim(padded) : c.paint ? c.paint(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [
    line(
      header.map((text) => ({ text })),
      true,
    ),
    ...rows.map((r) => line(r, false)),
  ].join('\n');
}

export function formatStatus(s: Snapshot, opts: { color: boolean }): string {
  const p = opts.color ? COLOURS : PLAIN;
  const d = s.daemon;
  const out: string[] = [];
  const commit = d.commit ? ` (${d.commit})` : '';
  out.push(`${p.bold(`${d.name} ${d.version}`)}${commit} · pid ${d.pid} · up ${formatDurationShort(d.uptimeSec)} · backend ${d.backend} · host ${d.hostname}`);
  const where = [`listen ${d.listen.join(', ') || '-'}`];
  // Other protocols by name (daemons before protocol plug-ins have no `listeners`).
  const others = new Map<string, string[]>();
  for (const l of d.listeners ?? []) if (l.protocol !== 'cannelloni') others.set(l.protocol, [...(others.get(l.protocol) ?? []), l.address]);
  for (const [protocol, addresses] of others) where.push(`${protocol} ${addresses.join(', ')}`);
  where.push(`mDNS ${d.mdnsName ?? 'off'}`);
  // The web page's server serves /metrics too (one HTTP server).
  where.push(s.web ? `web+metrics http://${s.web.address}/` : `metrics ${d.metricsAddr ?? 'off'}`);
  where.push(`control ${d.controlSocket || '-'}`);
  out.push(p.dim(where.join(' · ')));
  const fds = d.descriptors;
  if (fds?.exhausted) {
    out.push(
      p.bad(
        `✗ the daemon is out of file descriptors (for ${formatDurationShort((fds.sinceMs ?? 0) / 1000)}): ${fds.failures} accept failures, ${fds.refused} connections closed at once; ` +
          'new clients cannot connect. See `journalctl -u ampio-bridge` (accept_exhausted) and `ss -tnp`; raise LimitNOFILE= if the connections are legitimate',
      ),
    );
  }
  const access = accessLine(d.config);
  if (access) out.push(p.dim(access));
  out.push('');

  const busHeader = [
    'BUS',
    'STATE',
    'BACKEND',
    'BITRATE',
    'RX',
    'TX',
    'RX/S',
    'TX/S',
    'LOAD',
    'ERRFR',
    'TXQ',
    'TXDROP',
    'STALE',
    'REOPEN',
    'CLIENTS',
    'LAST RX',
  ];
  const busRows: Cell[][] = s.buses.map((b) => {
    const loadPaint = b.busLoad >= BUS_LOAD_ERROR ? p.bad : b.busLoad >= BUS_LOAD_WARN ? p.warn : undefined;
    const txDrops = sumValues(b.txDrops);
    return [
      { text: b.name },
      { text: b.busState, paint: stateColour(p, b.busState) },
      { text: b.backendState, paint: stateColour(p, b.backendState) },
      { text: formatBitrate(b.bitrate) + (b.fd ? ' FD' : '') },
      { text: String(b.rxFrames) },
      { text: String(b.txFrames) },
      { text: String(Math.round(b.rxFps)) },
      { text: String(Math.round(b.txFps)) },
      { text: b.bitrate === null ? '?' : `${b.busLoad.toFixed(1)}%`, paint: loadPaint },
      { text: String(b.errorFrames), paint: b.errorFrames > 0 ? p.warn : undefined },
      { text: String(b.txQueueDepth) },
      { text: String(txDrops), paint: txDrops > 0 ? p.warn : undefined },
      { text: String(b.staleDrops), paint: b.staleDrops > 0 ? p.warn : undefined },
      { text: String(b.reopens) },
      { text: String(b.clients) },
      { text: b.lastRxAgeSec === null ? 'never' : `${formatDurationShort(b.lastRxAgeSec)} ago` },
    ];
  });
  out.push(table(busHeader, busRows, p, new Set([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])));
  for (const b of s.buses) {
    for (const w of busWarnings(b)) out.push(p.warn(`! ${w}`));
    if ((b.txUnconfirmed ?? 0) > 0) out.push(p.dim(`  ${b.name} frames written but never confirmed on the bus: ${b.txUnconfirmed}`));
    const reasons = Object.entries(b.txDrops).filter(([, n]) => n > 0);
    if (reasons.length > 0) out.push(p.dim(`  ${b.name} frames toward the bus dropped: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`));
    const errs = Object.entries(b.errorCounters).filter(([, n]) => n > 0);
    if (errs.length > 0) out.push(p.dim(`  ${b.name} error/state counters: ${errs.map(([r, n]) => `${r} ${n}`).join(', ')}`));
  }
  out.push('');

  if (s.clients.length === 0) {
    out.push(p.dim('no clients connected'));
  } else {
    const clientHeader = [
      'ID',
      'PROTOCOL',
      'BUS',
      'REMOTE',
      'CONNECTED',
      'FRAMES OUT',
      'FRAMES IN',
      'BYTES OUT',
      'BYTES IN',
      'QUEUE',
      'HIGH',
      'DROPS',
      'BEHIND',
      'TX REFUSED',
    ];
    const rows: Cell[][] = s.clients.map((c: ClientSnapshot) => [
      { text: String(c.id) },
      { text: c.protocol ?? 'cannelloni' },
      { text: c.bus },
      // A server the bridge dialled reads `→ host:port`; a UDP peer `udp host:port`.
      { text: `${c.direction === 'out' ? '→ ' : ''}${c.transport === 'udp' ? 'udp ' : ''}${c.remote}` },
      { text: formatDurationShort(Math.max(0, (s.time - c.connectedAt) / 1000)) },
      { text: String(c.framesOut) },
      { text: String(c.framesIn) },
      { text: String(c.bytesOut) },
      { text: String(c.bytesIn) },
      { text: `${c.queueDepth}/${c.queueCapacity}`, paint: c.queueDepth > c.queueCapacity / 2 ? p.warn : undefined },
      { text: String(c.queueHighWater) },
      { text: String(c.drops + (c.staleDrops ?? 0)), paint: c.drops + (c.staleDrops ?? 0) > 0 ? p.warn : undefined },
      { text: c.behindMs === undefined ? '-' : formatBehind(c.behindMs), paint: (c.behindMs ?? 0) >= 1000 ? p.warn : undefined },
      { text: refusedText(c), paint: c.readOnly ? p.dim : sumValues(c.txRefused ?? {}) > 0 ? p.warn : undefined },
    ]);
    out.push(table(clientHeader, rows, p, new Set([0, 5, 6, 7, 8, 9, 10, 11, 12, 13])));
    for (const c of s.clients) {
      const withheld = Object.entries(c.withheld ?? {}).filter(([, n]) => n > 0);
      if (withheld.length > 0)
        out.push(
          p.dim(
            `  client ${c.id} (${c.protocol ?? 'cannelloni'}) frames withheld because it cannot take them: ${withheld.map(([r, n]) => `${r.replace(/_/g, ' ')} ${n}`).join(', ')}`,
          ),
        );
      if (c.datagramsLost || c.datagramsMisordered)
        out.push(p.warn(`  #${c.id} ${c.remote}: ${c.datagramsLost ?? 0} datagrams lost, ${c.datagramsMisordered ?? 0} misordered (UDP)`));
    }
  }
  for (const o of s.outbound ?? []) {
    const line = `dial-out ${o.protocol} ${o.bus} → ${o.target}: ${o.state} for ${formatDurationShort(Math.max(0, (s.time - o.since) / 1000))}, ${o.connects} connects, ${o.failures} failed${o.state !== 'up' && o.lastError ? ` (last: ${o.lastError})` : ''}`;
    out.push(o.state === 'up' ? p.dim(line) : p.warn(line));
  }
  out.push('');
  const t = s.totals;
  out.push(
    `totals: ${t.active} active · ${t.accepted} accepted · ${t.rejected} rejected · ${t.kicked} kicked · ` +
      `${t.handshakeFailures} handshake failures · ${t.malformed} malformed · ${t.hubDrops} hub drops`,
  );
  const why = Object.entries(t.rejectedByReason ?? {}).filter(([, n]) => n > 0);
  if (why.length > 0) out.push(p.dim(`  rejected: ${why.map(([r, n]) => `${r.replace(/_/g, ' ')} ${n}`).join(', ')}`));
  // Not refusals: the peer had gone before the bridge could accept (a client that gave up, a scan).
  if (t.resetBeforeAccept) out.push(p.dim(`  reset by the peer before accept: ${t.resetBeforeAccept}`));
  for (const line of describeCapture(s.capture, s.time)) out.push(line.warn ? p.warn(line.text) : p.dim(line.text));
  if (s.ampio) {
    const line = describeAmpio(s.ampio);
    out.push(line.warn ? p.warn(line.text) : p.dim(line.text));
  }
  if (s.mqtt) {
    const m = describeMqtt(s.mqtt, s.time);
    out.push(m.warn ? p.warn(m.text) : p.dim(m.text));
  }
  return `${out.join('\n')}\n`;
}

/** "320 ms", "2.4 s": how far behind a client is. */
export function formatBehind(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "listen-only", "rate 12, id 3", or "0". */
export function refusedText(c: ClientSnapshot): string {
  if (c.readOnly) return `listen-only${c.txRefused?.read_only ? ` (${c.txRefused.read_only})` : ''}`;
  const r = c.txRefused;
  if (!r) return '-';
  const parts: string[] = [];
  if (r.rate_limited) parts.push(`rate ${r.rate_limited}`);
  if (r.id_not_allowed) parts.push(`id ${r.id_not_allowed}`);
  return parts.length ? parts.join(', ') : '0';
}

/** Who may connect and send, when it differs from the defaults worth a glance. */
function accessLine(config: Record<string, string | number | boolean>): string | null {
  if (config.allow === undefined) return null;
  const parts = [`allow ${config.allow}`];
  if (config['tx-allow'] !== 'same as --allow') parts.push(`tx-allow ${config['tx-allow']}`);
  if (config['tx-rate'] !== '0') parts.push(`tx-rate ${config['tx-rate']}/s`);
  if (config['tx-ids'] !== 'every ID') parts.push(`tx-ids ${config['tx-ids']}`);
  parts.push(`client-max-lag ${config['client-max-lag']}`);
  return parts.join(' · ');
}
