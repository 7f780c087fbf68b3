// The HAT catalog (overlays/catalog.json + one fragment per board), validated on load.
// `validateCatalog` is pure so the test can feed it broken catalogs; `loadCatalog` reads the
// files shipped in the package.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { packageDir } from './package-files.js';

export interface CatalogInterface {
  name: string;
  spi: string;
  chipSelect: string;
  interrupt: number | null;
  connector: string;
}

export interface BoardParam {
  default: number;
  choices?: number[];
  help: string;
}

export interface Board {
  id: string;
  name: string;
  controller: string;
  driver: 'mcp251x' | 'mcp251xfd';
  oscillator: number | null;
  fragment: string;
  verified: boolean;
  interfaces: CatalogInterface[];
  sources: string[];
  notes: string;
  params?: { oscillator?: BoardParam; interrupt?: BoardParam };
  /** Contents of the fragment file (filled in by the loader). */
  lines: string;
}

export interface Catalog {
  default: string;
  boards: Board[];
}

export class CatalogError extends Error {
  readonly code = 'CATALOG_INVALID';
  readonly hint = 'the package is damaged or overlays/ was edited by hand; reinstall ampio-bridge or fix overlays/catalog.json';
  constructor(readonly problems: string[]) {
    super(`overlays/catalog.json is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Board parameters used to fill a template fragment. */
export interface BoardParams {
  oscillator?: number;
  interrupt?: number;
}

/** The exact config.txt lines for a board, templates filled in. */
export function boardLines(board: Board, params: BoardParams = {}): string[] {
  const values: Record<string, number | undefined> = {
    oscillator: params.oscillator ?? board.params?.oscillator?.default,
    interrupt: params.interrupt ?? board.params?.interrupt?.default,
  };
  return board.lines
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) =>
      l.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
        const v = values[k];
        if (v === undefined) throw new CatalogError([`${board.id}: no value for {{${k}}}`]);
        return String(v);
      }),
    );
}

/** Mistakes old guides still put in config.txt, each with why it breaks (also used by doctor). */
export function lintOverlayLines(lines: string[]): string[] {
  const problems: string[] = [];
  const irqs = new Map<number, string>();
  for (const line of lines) {
    const m = /^dtoverlay=([^,\s]+)(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1];
    const params = m[2];
    if (name.endsWith('-overlay')) problems.push(`"${line}": the -overlay suffix no longer works (redragonx/can2RNET#5)`);
    if (name === 'spi0-hw-cs') problems.push(`"${line}": spi0-hw-cs is deprecated and has been seen to stop spi0 working`);
    if (/^mcp251[5x]/.test(name)) {
      const irq = /(?:^|,)interrupt=(\d+)/.exec(params);
      if (!irq) problems.push(`"${line}": no interrupt= (the overlays default to GPIO 25; two such lines kill can0)`);
      else {
        const n = Number(irq[1]);
        const other = irqs.get(n);
        if (other) problems.push(`"${line}" and "${other}" share interrupt=${n}: one chip will hang (ENOBUFS after one frame)`);
        irqs.set(n, line);
      }
      const osc = /(?:^|,)oscillator=(\d+)/.exec(params);
      if (name.startsWith('mcp2515') && osc) {
        const hz = Number(osc[1]);
        if (hz < 1_000_000 || hz > 25_000_000) problems.push(`"${line}": oscillator=${hz} is outside 1-25 MHz (the driver fails with err=34)`);
      }
    }
  }
  return problems;
}

export function validateCatalog(raw: unknown, fragments: Record<string, string | null>): Catalog {
  const problems: string[] = [];
  const c = raw as { schema?: unknown; default?: unknown; boards?: unknown };
  if (!c || typeof c !== 'object') throw new CatalogError(['not a JSON object']);
  if (c.schema !== 1) problems.push(`schema must be 1, got ${JSON.stringify(c.schema)}`);
  if (!Array.isArray(c.boards) || c.boards.length === 0) throw new CatalogError([...problems, 'boards must be a non-empty array']);
  const ids = new Set<string>();
  const boards: Board[] = [];
  for (const [i, b] of (c.boards as Record<string, unknown>[]).entries()) {
    const where = typeof b?.id === 'string' ? b.id : `boards[${i}]`;
    const need = (k: string, t: string) => {
      if (typeof b?.[k] !== t) problems.push(`${where}: ${k} must be a ${t}`);
    };
    need('id', 'string');
    need('name', 'string');
    need('controller', 'string');
    need('fragment', 'string');
    need('verified', 'boolean');
    need('notes', 'string');
    if (typeof b?.id === 'string') {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(b.id)) problems.push(`${where}: id must be kebab-case`);
      if (ids.has(b.id)) problems.push(`${where}: duplicate id`);
      ids.add(b.id);
    }
    if (b?.driver !== 'mcp251x' && b?.driver !== 'mcp251xfd') problems.push(`${where}: driver must be mcp251x or mcp251xfd`);
    if (!(b?.oscillator === null || (typeof b?.oscillator === 'number' && b.oscillator > 0))) problems.push(`${where}: oscillator must be Hz or null`);
    if (!Array.isArray(b?.sources)) problems.push(`${where}: sources must be an array`);
    const ifaces = b?.interfaces as CatalogInterface[] | undefined;
    if (!Array.isArray(ifaces) || ifaces.length === 0) problems.push(`${where}: interfaces must be a non-empty array`);
    else {
      for (const f of ifaces) {
        if (!/^can\d$/.test(String(f?.name))) problems.push(`${where}: interface name ${JSON.stringify(f?.name)} is not canN`);
        if (!/^spi\d\.\d$/.test(String(f?.spi))) problems.push(`${where}: spi ${JSON.stringify(f?.spi)} is not spiB.C`);
      }
      if (new Set(ifaces.map((f) => f.name)).size !== ifaces.length) problems.push(`${where}: an interface is listed twice`);
    }
    const text = typeof b?.fragment === 'string' ? fragments[b.fragment] : null;
    if (typeof b?.fragment === 'string' && (text === null || text === undefined)) problems.push(`${where}: fragment ${b.fragment} is missing`);
    if (typeof text === 'string') {
      if (!text.endsWith('\n')) problems.push(`${where}: ${b.fragment} must end with a newline`);
      if (/spi-bcm2835/.test(text)) problems.push(`${where}: ${b.fragment} must not load spi-bcm2835-overlay`);
      const board = { ...(b as unknown as Board), lines: text };
      try {
        const lines = boardLines(board);
        for (const p of lintOverlayLines(lines)) problems.push(`${where}: ${p}`);
        if (typeof b.oscillator === 'number' && b.driver === 'mcp251x') {
          for (const l of lines) {
            const osc = /oscillator=(\d+)/.exec(l);
            if (osc && Number(osc[1]) !== b.oscillator) problems.push(`${where}: "${l}" disagrees with oscillator ${b.oscillator}`);
          }
        }
        if (!lines.some((l) => l.startsWith('dtoverlay='))) problems.push(`${where}: ${b.fragment} has no dtoverlay line`);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
      boards.push(board);
    }
  }
  if (typeof c.default !== 'string' || !ids.has(c.default)) problems.push(`default ${JSON.stringify(c.default)} is not a board id`);
  const listed = new Set((c.boards as Record<string, unknown>[]).map((b) => b?.fragment));
  for (const name of Object.keys(fragments)) {
    if (!listed.has(name)) problems.push(`${name} is not used by any board`);
  }
  if (problems.length) throw new CatalogError(problems);
  return { default: c.default as string, boards };
}

/** Reads overlays/ from the installed package. */
export async function loadCatalog(dir = path.join(packageDir(), 'overlays')): Promise<Catalog> {
  const { readdir } = await import('node:fs/promises');
  const raw = JSON.parse(await readFile(path.join(dir, 'catalog.json'), 'utf8')) as unknown;
  const fragments: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    if (name.endsWith('.txt')) fragments[name] = await readFile(path.join(dir, name), 'utf8');
  }
  return validateCatalog(raw, fragments);
}

export function findBoard(catalog: Catalog, id: string): Board | undefined {
  return catalog.boards.find((b) => b.id === id);
}
