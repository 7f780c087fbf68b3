// Per-client figures between two snapshots, and the sort orders of the clients table. Pure.

import type { ClientSnapshot, Snapshot } from '../../src/control/protocol.js';

export interface ClientRates {
  outFps: number;
  inFps: number;
}

/**
 * Frames/s per client from two successive snapshots. A client seen for the first time has no
 * rate yet (shown as –) rather than a made-up 0. The daemon reads connectedAt once, when it
 * accepts the connection, so the same connection always reports the same value; an id with
 * another connectedAt is a new client (ids restart with the daemon).
 */
export function clientRates(prev: Snapshot | null, cur: Snapshot): Map<number, ClientRates> {
  const rates = new Map<number, ClientRates>();
  if (!prev) return rates;
  const dt = (cur.time - prev.time) / 1000;
  if (!(dt > 0)) return rates;
  const before = new Map(prev.clients.map((c) => [c.id, c]));
  for (const c of cur.clients) {
    const p = before.get(c.id);
    if (!p || p.connectedAt !== c.connectedAt) continue;
    rates.set(c.id, {
      outFps: Math.max(0, (c.framesOut - p.framesOut) / dt),
      inFps: Math.max(0, (c.framesIn - p.framesIn) / dt),
    });
  }
  return rates;
}

export function previousClients(prev: Snapshot | null): Map<number, ClientSnapshot> {
  const m = new Map<number, ClientSnapshot>();
  if (!prev) return m;
  for (const c of prev.clients) m.set(c.id, c);
  return m;
}

// ---------------------------------------------------------------- sorting

export const SORT_KEYS = ['id', 'remote', 'age', 'outFps', 'inFps', 'queue', 'drops'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const SORT_LABELS: Record<SortKey, string> = {
  id: 'id',
  remote: 'remote',
  age: 'connected',
  outFps: 'out/s',
  inFps: 'in/s',
  queue: 'queue',
  drops: 'drops',
};

/** Numbers where big is interesting sort descending; names and ids ascending; age oldest first. */
export function defaultDescending(key: SortKey): boolean {
  return key !== 'id' && key !== 'remote';
}

export function nextSortKey(key: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(key) + 1) % SORT_KEYS.length];
}

export function sortClients(clients: readonly ClientSnapshot[], key: SortKey, descending: boolean, rates: ReadonlyMap<number, ClientRates>): ClientSnapshot[] {
  const value = (c: ClientSnapshot): number | string => {
    switch (key) {
      case 'id':
        return c.id;
      case 'remote':
        return c.remote;
      case 'age':
        return -c.connectedAt; // older connection = larger age
      case 'outFps':
        return rates.get(c.id)?.outFps ?? -1;
      case 'inFps':
        return rates.get(c.id)?.inFps ?? -1;
      case 'queue':
        return c.queueDepth;
      case 'drops':
        return c.drops;
    }
  };
  const dir = descending ? -1 : 1;
  return [...clients].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    let cmp: number;
    if (typeof va === 'string' || typeof vb === 'string') cmp = String(va).localeCompare(String(vb), 'en', { numeric: true });
    else cmp = va - vb;
    return cmp !== 0 ? cmp * dir : a.id - b.id;
  });
}
