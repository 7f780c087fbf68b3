// Connections that have not finished their protocol's handshake. They do not hold client
// slots (so sockets that never say hello cannot lock real clients out); they live here, in a
// pool bounded per host and in total. A host over its share loses its OLDEST pending
// connection: a squatter reopening sockets faster than the handshake timeout only ever
// evicts its own, while a real client's handshake (milliseconds) completes long before it
// could become the oldest.

export interface PendingLimits {
  /** Pending connections per host (--max-pending-per-host). */
  perHost: number;
  /** Pending connections in total. */
  total: number;
}

export class PendingPool<T> {
  private readonly byHost = new Map<string, T[]>();
  private count = 0;

  constructor(public limits: PendingLimits) {}

  get size(): number {
    return this.count;
  }

  pendingOf(host: string): number {
    return this.byHost.get(host)?.length ?? 0;
  }

  /**
   * Adds a pending connection; returns the connections evicted to make room (close them),
   * oldest first. When the whole pool is full, the host with the most pending pays.
   */
  add(host: string, item: T): T[] {
    const evicted: T[] = [];
    let list = this.byHost.get(host);
    if (!list) {
      list = [];
      this.byHost.set(host, list);
    }
    while (list.length >= this.limits.perHost && list.length > 0) {
      evicted.push(list.shift() as T);
      this.count--;
    }
    while (this.count >= this.limits.total && this.count > 0) {
      const victim = this.largestHost();
      const vlist = this.byHost.get(victim) as T[];
      evicted.push(vlist.shift() as T);
      this.count--;
      if (vlist.length === 0 && victim !== host) this.byHost.delete(victim);
    }
    if (this.limits.perHost > 0 && this.limits.total > 0) {
      list.push(item);
      this.count++;
    } else {
      evicted.push(item);
    }
    if (list.length === 0) this.byHost.delete(host);
    return evicted;
  }

  /** The connection finished its handshake or closed. Returns whether it was pending. */
  remove(host: string, item: T): boolean {
    const list = this.byHost.get(host);
    if (!list) return false;
    const i = list.indexOf(item);
    if (i < 0) return false;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) this.byHost.delete(host);
    return true;
  }

  /** New limits (SIGHUP); returns what no longer fits (oldest first per host). */
  reconfigure(limits: PendingLimits): T[] {
    this.limits = limits;
    const evicted: T[] = [];
    for (const [host, list] of this.byHost) {
      while (list.length > limits.perHost) {
        evicted.push(list.shift() as T);
        this.count--;
      }
      if (list.length === 0) this.byHost.delete(host);
    }
    while (this.count > limits.total) {
      const victim = this.largestHost();
      const vlist = this.byHost.get(victim) as T[];
      evicted.push(vlist.shift() as T);
      this.count--;
      if (vlist.length === 0) this.byHost.delete(victim);
    }
    return evicted;
  }

  private largestHost(): string {
    let best = '';
    let n = -1;
    for (const [h, list] of this.byHost) {
      if (list.length > n) {
        n = list.length;
        best = h;
      }
    }
    return best;
  }
}
