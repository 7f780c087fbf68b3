// The retained topics of the bridge (state values, discovery configs, diagnostics): the
// current payload of each topic, and which ones the broker has not been sent yet. A change
// only marks its topic dirty; what goes out is always the current payload, once, so a broker
// that was away or slow gets the present state and never a backlog. Memory is bounded by the
// number of topics (one entry per value of the house), not by how often values change.
export interface RetainedSink {
  publish(topic: string, payload: string, retain: boolean): boolean;
}

export class RetainedSet {
  private readonly current = new Map<string, string>();
  private dirty = new Set<string>();
  private scheduled = false;
  /** Retained messages handed to the broker's socket. */
  published = 0;
  /** Changes to a topic that replaced a value not yet sent (coalesced, not lost: the newer one goes). */
  coalesced = 0;
  /** New topics refused because the set is full. */
  refused = 0;

  constructor(
    private readonly sink: RetainedSink,
    private readonly maxTopics = 50_000,
    /** How a flush is scheduled (tests pass a synchronous one). */
    private readonly schedule: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  get size(): number {
    return this.current.size;
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Sets a topic's payload; published on the next turn if it changed. */
  set(topic: string, payload: string): void {
    const before = this.current.get(topic);
    if (before === payload) return;
    if (before === undefined && this.current.size >= this.maxTopics) {
      this.refused++;
      return;
    }
    this.current.set(topic, payload);
    if (this.dirty.has(topic)) this.coalesced++;
    else this.dirty.add(topic);
    this.kick();
  }

  /**
   * Removes a topic: the broker is sent an empty retained message, which deletes a retained
   * value (and, for a discovery config, the entity in Home Assistant).
   */
  delete(topic: string): void {
    if (!this.current.has(topic)) return;
    this.current.set(topic, '');
    this.dirty.add(topic);
    this.kick();
  }

  get(topic: string): string | undefined {
    return this.current.get(topic);
  }

  topics(): IterableIterator<string> {
    return this.current.keys();
  }

  /** After a (re)connection: every topic goes out again, with its current payload. */
  markAllDirty(): void {
    this.dirty = new Set(this.current.keys());
    this.kick();
  }

  /** Sends dirty topics while the sink takes them; the rest wait for the next flush. */
  flush(): void {
    this.scheduled = false;
    for (const topic of this.dirty) {
      const payload = this.current.get(topic) ?? '';
      if (!this.sink.publish(topic, payload, true)) return;
      this.published++;
      this.dirty.delete(topic);
      // An emptied topic is gone once the broker was told.
      if (payload === '') this.current.delete(topic);
    }
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }
}
