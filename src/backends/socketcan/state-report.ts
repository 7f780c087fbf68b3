// The (backend, bus) state pair the SocketCAN backend reports, told to the sink once per
// change: the link is looked at every second and error frames can arrive by the thousand,
// so an unchanged pair is not sent again. Owns the bus-state tracker; a transition it
// returns goes to `onTransition` first (bus-off drops the TX backlog, a bus that can
// transmit again restarts the TX queue), then the pair is reported.
import { BusStateTracker, type BusStateTransition } from '../../core/bus-state.js';
import type { BackendSink, BackendState } from '../types.js';

export class StateReport {
  readonly tracker = new BusStateTracker('unknown');
  private backend: BackendState = 'opening';
  private lastReported = '';

  constructor(
    private readonly sink: () => BackendSink | null,
    private readonly onTransition: (t: BusStateTransition) => void,
  ) {}

  /** The backend state is now `backend`; `t`: what the bus did with it (null: nothing). */
  set(backend: BackendState, t: BusStateTransition | null, detail?: string): void {
    this.backend = backend;
    this.apply(t, detail);
  }

  /** Acts on a bus-state transition (if any) and reports the pair if it changed. */
  apply(t: BusStateTransition | null, detail?: string): void {
    if (t) this.onTransition(t);
    const key = `${this.backend}/${this.tracker.state}`;
    if (key === this.lastReported) return;
    this.lastReported = key;
    this.sink()?.stateChanged(this.backend, this.tracker.state, detail ?? t?.cause);
  }
}
