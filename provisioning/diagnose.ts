// Pure parsers that turn system transcripts (dmesg, `ip -details -json link`, config.txt)
// into findings with a plain-language fix: a wrong overlay is the most common "it doesn't
// work", and dmesg alone does not say what to change. No I/O: probe and doctor feed them
// text, tests feed them fixtures.

import type { CanLinkFacts } from './types.js';

export interface CanLinkDetails extends CanLinkFacts {
  /** spi0.0 … from `parentdev` */
  parentDev: string | null;
  /** reported CAN clock (half the MCP2515 crystal) */
  clock: number | null;
  samplePoint: string | null;
  flags: string[];
  /** bus-error counters from the CAN statistics, when present */
  canStats: Record<string, number>;
}

interface IpLinkJson {
  ifname?: string;
  operstate?: string;
  flags?: string[];
  txqlen?: number;
  parentdev?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: {
      state?: string;
      restart_ms?: number;
      clock?: number;
      bittiming?: { bitrate?: number; sample_point?: string };
    };
    info_xstats?: Record<string, number>;
  };
}

export class TranscriptError extends Error {
  readonly code = 'TRANSCRIPT_UNPARSEABLE';
}

/** `ip -details [-statistics] -json link show` → the CAN links in it. */
export function parseIpLinkJson(text: string): CanLinkDetails[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TranscriptError(`ip -json output is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new TranscriptError('ip -json output is not a list of links');
  const out: CanLinkDetails[] = [];
  for (const l of data as IpLinkJson[]) {
    if (l?.linkinfo?.info_kind !== 'can' || typeof l.ifname !== 'string') continue;
    const d = l.linkinfo.info_data ?? {};
    const stats: Record<string, number> = {};
    for (const [k, v] of Object.entries(l.linkinfo.info_xstats ?? {})) if (typeof v === 'number') stats[k] = v;
    out.push({
      name: l.ifname,
      state: l.operstate ?? 'UNKNOWN',
      flags: l.flags ?? [],
      bitrate: d.bittiming?.bitrate ?? null,
      restartMs: d.restart_ms ?? null,
      qlen: l.txqlen ?? null,
      canState: d.state ?? null,
      parentDev: l.parentdev ?? null,
      clock: d.clock ?? null,
      samplePoint: d.bittiming?.sample_point ?? null,
      canStats: stats,
    });
  }
  return out;
}

const ERRNO: Record<number, { name: string; meaning: string; fix: string }> = {
  34: {
    name: 'ERANGE',
    meaning: 'the oscillator= value is outside 1-25 MHz (usually a typo)',
    fix: 'set oscillator= to the crystal on the board (16000000 for a 16.000 MHz crystal) with `ampio-bridge setup`, then reboot',
  },
  19: {
    name: 'ENODEV',
    meaning: 'no MCP2515 answered on that chip select: HAT not seated, wrong board chosen, or SPI wiring',
    fix: 'power off, reseat the HAT, check the board model you chose in setup (SPI0 vs SPI1 variants), then boot again',
  },
  110: {
    name: 'ETIMEDOUT',
    meaning: "the chip didn't enter configuration mode: wrong SPI bus or variant (HAT vs HAT+), wiring, or a failed re-init after a soft reboot",
    fix: 'check the board variant in setup (the 2-CH CAN HAT+ uses SPI1), then power-cycle the Pi (a soft reboot is not always enough)',
  },
};

export function errnoMeaning(code: number): { name: string; meaning: string; fix: string } {
  return (
    ERRNO[Math.abs(code)] ?? {
      name: `error ${code}`,
      meaning: 'the driver failed to probe the chip',
      fix: 'check the overlay lines for your board and the wiring, then reboot',
    }
  );
}

export interface ChipReport {
  spi: string;
  iface: string | null;
  ok: boolean;
  /** kernel errno when it failed */
  errno: number | null;
  detail: string;
}

/** dmesg (or `journalctl -k`) text → one report per SPI chip mentioned by mcp251x/mcp251xfd. */
export function parseDmesg(text: string): ChipReport[] {
  const chips = new Map<string, ChipReport>();
  const get = (spi: string) => {
    let c = chips.get(spi);
    if (!c) {
      c = { spi, iface: null, ok: false, errno: null, detail: '' };
      chips.set(spi, c);
    }
    return c;
  };
  for (const line of text.split('\n')) {
    let m = /mcp251xf?d? (spi\d+\.\d+) (can\d+): .*successfully initialized/i.exec(line);
    if (m) {
      const c = get(m[1]);
      Object.assign(c, { iface: m[2], ok: true, errno: null, detail: line.replace(/^\[[^\]]*\]\s*/, '').trim() });
      continue;
    }
    m = /mcp251xf?d? (spi\d+\.\d+): Cannot initialize MCP\w+\. Wrong wiring\?/i.exec(line);
    if (m) {
      const c = get(m[1]);
      if (!c.ok) Object.assign(c, { errno: c.errno ?? 19, detail: 'Cannot initialize MCP2515. Wrong wiring?' });
      continue;
    }
    m = /mcp251xf?d? (spi\d+\.\d+): MCP251x didn't enter in conf mode after reset/i.exec(line);
    if (m) {
      const c = get(m[1]);
      if (!c.ok) Object.assign(c, { errno: c.errno ?? 110, detail: "MCP251x didn't enter in conf mode after reset" });
      continue;
    }
    m = /mcp251xf?d? (spi\d+\.\d+): Probe failed, err=(-?\d+)/i.exec(line) ?? /mcp251xf?d?:? probe of (spi\d+\.\d+) failed with error (-?\d+)/i.exec(line);
    if (m) {
      const c = get(m[1]);
      if (!c.ok) Object.assign(c, { errno: Math.abs(Number(m[2])), detail: line.replace(/^\[[^\]]*\]\s*/, '').trim() });
    }
  }
  return [...chips.values()].sort((a, b) => a.spi.localeCompare(b.spi));
}

/** `systemctl --version` → 252 */
export function parseSystemdVersion(text: string): number | null {
  const m = /^systemd (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** /etc/os-release → fields */
export function parseOsRelease(text: string | null): { prettyName: string; id: string; codename: string } | null {
  if (!text) return null;
  const kv: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return { prettyName: kv.PRETTY_NAME ?? kv.NAME ?? 'unknown', id: kv.ID ?? 'unknown', codename: kv.VERSION_CODENAME ?? '' };
}

/** Value of `Key=` under `[Section]` in an INI-style systemd file. */
export function iniValue(text: string | null, section: string, key: string): string | null {
  if (!text) return null;
  let cur = '';
  let found: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      cur = s[1];
      continue;
    }
    const m = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (m && cur === section && m[1] === key) found = m[2];
  }
  return found;
}
