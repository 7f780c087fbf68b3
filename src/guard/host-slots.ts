// Client slots per host (--max-clients-per-host): one device on the LAN, however many
// connections it opens, cannot take every slot from the others.

export class HostSlots {
  private readonly used = new Map<string, number>();

  constructor(public perHost: number) {}

  /** Takes a slot for `host`; false when it already holds its share (0 = unlimited). */
  take(host: string): boolean {
    const n = this.used.get(host) ?? 0;
    if (this.perHost > 0 && n >= this.perHost) return false;
    this.used.set(host, n + 1);
    return true;
  }

  release(host: string): void {
    const n = this.used.get(host) ?? 0;
    if (n <= 1) this.used.delete(host);
    else this.used.set(host, n - 1);
  }

  of(host: string): number {
    return this.used.get(host) ?? 0;
  }

  /** Hosts holding at least one slot (memory stays bounded by the connections themselves). */
  get hosts(): number {
    return this.used.size;
  }
}
