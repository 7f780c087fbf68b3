// Who holds a client slot. A connection is pending until its negotiation ends (a host over
// --max-pending-per-host loses its oldest); then it takes a slot of its listener's scope
// (--max-clients: one scope per bus listener, one per shared listener) and one of its host's
// share (--max-clients-per-host), or is refused. A connection that never says hello never
// holds a client slot.
import type { Gatekeeper } from '../guard/gatekeeper.js';

export type SlotRefusal = 'max_clients' | 'max_clients_per_host';

export class ClientSlots<S extends object> {
  /** Clients (negotiation done) per listener scope. */
  private readonly perScope = new Map<string, number>();
  private readonly scopeOf = new WeakMap<S, string>();
  private readonly hostOf = new WeakMap<S, string>();
  /** Connections holding a slot (counted in perScope and in their host's share). */
  private readonly slotted = new WeakSet<S>();

  constructor(
    private readonly gate: Gatekeeper<S>,
    /** --max-clients now (SIGHUP may change it); 0 = no limit. */
    private readonly maxClients: () => number,
  ) {}

  /** Whether every slot of `scope` is taken (checked on accept, and again when a negotiation ends). */
  scopeFull(scope: string): boolean {
    const max = this.maxClients();
    return max > 0 && (this.perScope.get(scope) ?? 0) >= max;
  }

  /** A new connection, pending; returns the connections of its host evicted to make room. */
  enter(s: S, address: string | undefined, scope: string): S[] {
    const host = this.gate.hostOf(address);
    this.scopeOf.set(s, scope);
    this.hostOf.set(s, host);
    return this.gate.enterPending(host, s);
  }

  /** Its negotiation ended: takes a slot, or says which limit refused it. */
  take(s: S): SlotRefusal | null {
    const host = this.hostOf.get(s) ?? '?';
    this.gate.leavePending(host, s);
    const scope = this.scopeOf.get(s) ?? '';
    if (this.scopeFull(scope)) return 'max_clients';
    if (!this.gate.takeSlot(host)) return 'max_clients_per_host';
    this.slotted.add(s);
    this.perScope.set(scope, (this.perScope.get(scope) ?? 0) + 1);
    return null;
  }

  /** It closed: leaves the pending pool or gives its slot back; true if it held a slot. */
  release(s: S): boolean {
    const host = this.hostOf.get(s) ?? '?';
    this.gate.leavePending(host, s);
    if (!this.slotted.has(s)) return false;
    this.slotted.delete(s);
    const scope = this.scopeOf.get(s);
    if (scope) this.perScope.set(scope, (this.perScope.get(scope) ?? 1) - 1);
    this.gate.releaseSlot(host);
    return true;
  }
}
