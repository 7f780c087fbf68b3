// CAN bus state per interface (error-active → warning → passive → bus-off, plus down), from
// error frames and the link state: mcp251x reports no TEC/REC, so error frames are all we
// have, and with restart-ms 0 a bus-off chip stays asleep until someone notices. Pure: the
// backend feeds it frames and link snapshots and acts on the transitions it returns (log
// once per transition, tell the sink, drop the backlog on bus-off).
import {
  CAN_ERR_ACK,
  CAN_ERR_BUSERROR,
  CAN_ERR_BUSOFF,
  CAN_ERR_CNT,
  CAN_ERR_CRTL,
  CAN_ERR_CRTL_ACTIVE,
  CAN_ERR_CRTL_RX_OVERFLOW,
  CAN_ERR_CRTL_RX_PASSIVE,
  CAN_ERR_CRTL_RX_WARNING,
  CAN_ERR_CRTL_TX_OVERFLOW,
  CAN_ERR_CRTL_TX_PASSIVE,
  CAN_ERR_CRTL_TX_WARNING,
  CAN_ERR_LOSTARB,
  CAN_ERR_MASK,
  CAN_ERR_PROT,
  CAN_ERR_RESTARTED,
  CAN_ERR_TRX,
  CAN_ERR_TX_TIMEOUT,
  type CanFrame,
} from './frame.js';

/** CAN controller state as the kernel names it, plus what the bridge knows of the link
 * (`down`: administratively down; `absent`: no such device). backends/types.ts re-exports it. */
export type BusState = 'error-active' | 'error-warning' | 'error-passive' | 'bus-off' | 'stopped' | 'down' | 'absent' | 'unknown';

/** Numeric form for the `can_bus_state` gauge (alert rules compare against these numbers). */
export const BUS_STATE_CODE: Record<BusState, number> = {
  'error-active': 0,
  'error-warning': 1,
  'error-passive': 2,
  'bus-off': 3,
  down: 4,
  stopped: 4,
  absent: 5,
  unknown: 6,
};

/** Error-frame classes (linux/can/error.h), the `class` label of `can_error_frames_total`. */
export type ErrorClass =
  | 'tx_timeout'
  | 'lost_arbitration'
  | 'controller'
  | 'protocol'
  | 'transceiver'
  | 'no_ack'
  | 'bus_off'
  | 'bus_error'
  | 'restarted'
  | 'counters';

const CLASS_BITS: [number, ErrorClass][] = [
  [CAN_ERR_TX_TIMEOUT, 'tx_timeout'],
  [CAN_ERR_LOSTARB, 'lost_arbitration'],
  [CAN_ERR_CRTL, 'controller'],
  [CAN_ERR_PROT, 'protocol'],
  [CAN_ERR_TRX, 'transceiver'],
  [CAN_ERR_ACK, 'no_ack'],
  [CAN_ERR_BUSOFF, 'bus_off'],
  [CAN_ERR_BUSERROR, 'bus_error'],
  [CAN_ERR_RESTARTED, 'restarted'],
  [CAN_ERR_CNT, 'counters'],
];

export const ERROR_CLASSES: readonly ErrorClass[] = CLASS_BITS.map(([, c]) => c);

export interface ErrorFrameInfo {
  classes: ErrorClass[];
  /** The controller state this frame announces, if any. */
  state: BusState | null;
  rxOverflow: boolean;
  txOverflow: boolean;
  /** TX/RX error counters when the driver sends them (CAN_ERR_CNT, data[6]/data[7]). */
  tec: number | null;
  rec: number | null;
}

/** Reads an error frame (id has CAN_ERR_FLAG; data is the 8-byte error payload). */
export function decodeErrorFrame(f: CanFrame): ErrorFrameInfo {
  const bits = f.id & CAN_ERR_MASK;
  const classes = CLASS_BITS.filter(([bit]) => (bits & bit) !== 0).map(([, c]) => c);
  const ctrl = (bits & CAN_ERR_CRTL) !== 0 ? (f.data[1] ?? 0) : 0;
  let state: BusState | null = null;
  // Most severe first: a bus-off frame may carry CRTL passive bits as well.
  if ((bits & CAN_ERR_BUSOFF) !== 0) state = 'bus-off';
  else if ((ctrl & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE)) !== 0) state = 'error-passive';
  else if ((ctrl & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING)) !== 0) state = 'error-warning';
  else if ((ctrl & CAN_ERR_CRTL_ACTIVE) !== 0 || (bits & CAN_ERR_RESTARTED) !== 0) state = 'error-active';
  const cnt = (bits & CAN_ERR_CNT) !== 0;
  return {
    classes,
    state,
    rxOverflow: (ctrl & CAN_ERR_CRTL_RX_OVERFLOW) !== 0,
    txOverflow: (ctrl & CAN_ERR_CRTL_TX_OVERFLOW) !== 0,
    tec: cnt ? (f.data[6] ?? 0) : null,
    rec: cnt ? (f.data[7] ?? 0) : null,
  };
}

export interface BusStateTransition {
  from: BusState;
  to: BusState;
  /** Short reason for the log: "error frame: controller", "link down", ... */
  cause: string;
}

/** The link as the backend last saw it. */
export interface LinkView {
  present: boolean;
  up: boolean;
  /** Controller state from netlink (`ip -details`), when the interface is a real CAN. */
  canState?: BusState | null;
}

export interface BusStateCounters {
  errorFrames: number;
  byClass: Record<ErrorClass, number>;
  /** Flat counters for snapshots (BusSnapshot.errorCounters). */
  busOff: number;
  errorWarning: number;
  errorPassive: number;
  restarted: number;
  rxOverflow: number;
  txOverflow: number;
  transitions: number;
  transitionsTo: Record<BusState, number>;
  tec: number | null;
  rec: number | null;
}

const zeroStates = (): Record<BusState, number> => ({
  'error-active': 0,
  'error-warning': 0,
  'error-passive': 0,
  'bus-off': 0,
  stopped: 0,
  down: 0,
  absent: 0,
  unknown: 0,
});

/** States in which frames can be written to the bus. */
export function canTransmit(s: BusState): boolean {
  return s === 'error-active' || s === 'error-warning' || s === 'error-passive' || s === 'unknown';
}

export class BusStateTracker {
  private current: BusState;
  private readonly c: BusStateCounters;

  constructor(initial: BusState = 'unknown') {
    this.current = initial;
    this.c = {
      errorFrames: 0,
      byClass: Object.fromEntries(ERROR_CLASSES.map((k) => [k, 0])) as Record<ErrorClass, number>,
      busOff: 0,
      errorWarning: 0,
      errorPassive: 0,
      restarted: 0,
      rxOverflow: 0,
      txOverflow: 0,
      transitions: 0,
      transitionsTo: zeroStates(),
      tec: null,
      rec: null,
    };
  }

  get state(): BusState {
    return this.current;
  }

  /** Counts an error frame and applies the state it announces. */
  errorFrame(f: CanFrame): BusStateTransition | null {
    const info = decodeErrorFrame(f);
    this.c.errorFrames++;
    for (const k of info.classes) this.c.byClass[k]++;
    if (info.rxOverflow) this.c.rxOverflow++;
    if (info.txOverflow) this.c.txOverflow++;
    if (info.classes.includes('restarted')) this.c.restarted++;
    if (info.tec !== null) {
      this.c.tec = info.tec;
      this.c.rec = info.rec;
    }
    if (info.state === null) return null;
    // Error frames only exist while the link is up; a late one after a link loss must not
    // resurrect the state.
    if (this.current === 'down' || this.current === 'absent') return null;
    return this.set(info.state, `error frame: ${info.classes.join('+')}`);
  }

  /**
   * Applies what the link says. Absent and down override everything. An up link with a
   * controller state (real CAN) takes that state; an up link without one (vcan, or
   * netlink not read) leaves a controller state learnt from error frames alone, and
   * otherwise counts as error-active: nothing has reported an error.
   */
  link(l: LinkView): BusStateTransition | null {
    if (!l.present) return this.set('absent', 'interface absent');
    if (!l.up) return this.set('down', 'link down');
    if (l.canState) return this.set(l.canState, 'link state');
    if (this.current === 'down' || this.current === 'absent' || this.current === 'unknown' || this.current === 'stopped') {
      return this.set('error-active', 'link up');
    }
    return null;
  }

  /** Sets a state directly (backend stopped, ...). Returns the transition, or null if none. */
  set(to: BusState, cause: string): BusStateTransition | null {
    if (to === this.current) return null;
    const from = this.current;
    this.current = to;
    this.c.transitions++;
    this.c.transitionsTo[to]++;
    if (to === 'bus-off') this.c.busOff++;
    else if (to === 'error-warning') this.c.errorWarning++;
    else if (to === 'error-passive') this.c.errorPassive++;
    return { from, to, cause };
  }

  counters(): BusStateCounters {
    return { ...this.c, byClass: { ...this.c.byClass }, transitionsTo: { ...this.c.transitionsTo } };
  }

  /** Flat numbers for BusSnapshot.errorCounters. */
  errorCounters(): Record<string, number> {
    const c = this.c;
    return {
      errorFrames: c.errorFrames,
      busOff: c.busOff,
      errorWarning: c.errorWarning,
      errorPassive: c.errorPassive,
      restarted: c.restarted,
      rxOverflow: c.rxOverflow,
      txOverflow: c.txOverflow,
      txTimeout: c.byClass.tx_timeout,
      lostArbitration: c.byClass.lost_arbitration,
      protocol: c.byClass.protocol,
      transceiver: c.byClass.transceiver,
      noAck: c.byClass.no_ack,
      busError: c.byClass.bus_error,
    };
  }
}
