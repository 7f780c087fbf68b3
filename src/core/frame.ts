// CAN frame model shared by every backend, codec and the hub.
// Constants mirror linux/can.h so frames cross SocketCAN, cannelloni and the control
// socket without translation.

export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;
export const CAN_ERR_FLAG = 0x20000000;
export const CAN_SFF_MASK = 0x000007ff;
export const CAN_EFF_MASK = 0x1fffffff;
export const CAN_ERR_MASK = 0x1fffffff;

/** canfd_frame.flags */
export const CANFD_BRS = 0x01;
export const CANFD_ESI = 0x02;
export const CANFD_FDF = 0x04;
export const CANFD_FLAGS_MASK = 0x07;

export const CAN_MAX_DLEN = 8;
export const CANFD_MAX_DLEN = 64;

/** Error-frame classes (can_id & CAN_ERR_MASK), linux/can/error.h. */
export const CAN_ERR_TX_TIMEOUT = 0x00000001;
export const CAN_ERR_LOSTARB = 0x00000002;
export const CAN_ERR_CRTL = 0x00000004;
export const CAN_ERR_PROT = 0x00000008;
export const CAN_ERR_TRX = 0x00000010;
export const CAN_ERR_ACK = 0x00000020;
export const CAN_ERR_BUSOFF = 0x00000040;
export const CAN_ERR_BUSERROR = 0x00000080;
export const CAN_ERR_RESTARTED = 0x00000100;
export const CAN_ERR_CNT = 0x00000200;
/** data[1] bits of a CAN_ERR_CRTL frame */
export const CAN_ERR_CRTL_RX_OVERFLOW = 0x01;
export const CAN_ERR_CRTL_TX_OVERFLOW = 0x02;
export const CAN_ERR_CRTL_RX_WARNING = 0x04;
export const CAN_ERR_CRTL_TX_WARNING = 0x08;
export const CAN_ERR_CRTL_RX_PASSIVE = 0x10;
export const CAN_ERR_CRTL_TX_PASSIVE = 0x20;
export const CAN_ERR_CRTL_ACTIVE = 0x40;

/**
 * One CAN or CAN FD frame.
 *
 * `id` is the SocketCAN `can_id` (unsigned 32-bit, flags included). For RTR frames `len`
 * is the requested DLC (0..8) and `data` is empty, because neither the wire format nor
 * the bus carries data bytes for a remote request.
 */
export interface CanFrame {
  id: number;
  len: number;
  data: Uint8Array;
  fd: boolean;
  /** canfd_frame flags (BRS/ESI/FDF); 0 for classic frames. */
  fdFlags: number;
  /**
   * Receive time in ms since the Unix epoch (fractional: µs resolution), from the kernel
   * where the backend gets it, else the bridge's clock at read. 0 when unknown (frames
   * decoded from TCP clients carry no time: cannelloni has no timestamps).
   */
  timestamp: number;
}

/**
 * Who put a frame on the bus: a client session (its id and wire protocol) or the bridge
 * itself (session 0). A client's frame carries it from the session through the bus and the
 * backend's TX queue (which only hands it back) to the taps and the echo: nothing has to
 * remember a session after it closed to tell where a late-confirmed frame came from.
 */
export interface FrameOrigin {
  readonly session: number;
  /** The session's wire protocol; null for the bridge itself. */
  readonly protocol: string | null;
}

/** The bridge's own frames. */
export const BRIDGE_ORIGIN: FrameOrigin = Object.freeze({ session: 0, protocol: null });

/** Payload lengths a CAN FD DLC can express. */
const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);
export const isValidFdLength = (n: number): boolean => FD_LENGTHS.has(n);

/** DLC code (0..15) for a payload length; FD lengths round up to the next valid size. */
export function lengthToDlc(len: number): number {
  if (len <= 8) return len;
  if (len <= 12) return 9;
  if (len <= 16) return 10;
  if (len <= 20) return 11;
  if (len <= 24) return 12;
  if (len <= 32) return 13;
  if (len <= 48) return 14;
  return 15;
}

export interface FrameInit {
  id: number;
  data?: ArrayLike<number>;
  extended?: boolean;
  rtr?: boolean;
  /** DLC of an RTR frame */
  len?: number;
  fd?: boolean;
  fdFlags?: number;
  error?: boolean;
  timestamp?: number;
}

/**
 * Builds a frame from friendly parts. Only the tests use it (every codec test builds its
 * frames the same way); production code receives frames already in the CanFrame form.
 */
export function makeFrame(init: FrameInit): CanFrame {
  let id = init.id >>> 0;
  const extended = init.extended ?? ((id & CAN_EFF_FLAG) !== 0 || ((id & ~CAN_EFF_FLAG & 0xe0000000) === 0 && (id & CAN_EFF_MASK) > CAN_SFF_MASK));
  if (extended) id = (id | CAN_EFF_FLAG) >>> 0;
  if (init.rtr) id = (id | CAN_RTR_FLAG) >>> 0;
  if (init.error) id = (id | CAN_ERR_FLAG) >>> 0;
  const rtr = (id & CAN_RTR_FLAG) !== 0;
  const data = rtr ? new Uint8Array(0) : Uint8Array.from(init.data ?? []);
  return {
    id,
    len: rtr ? (init.len ?? 0) : data.length,
    data,
    fd: init.fd ?? false,
    fdFlags: init.fd ? (init.fdFlags ?? 0) : 0,
    timestamp: init.timestamp ?? 0,
  };
}

/**
 * Checks that a frame can exist on a bus: lengths within range, FD only with valid FD
 * lengths, RTR never FD. Returns the reason it cannot, or null.
 */
export function frameProblem(f: CanFrame): string | null {
  if (f.fd) {
    if ((f.id & CAN_RTR_FLAG) !== 0) return 'RTR is not allowed in a CAN FD frame';
    if (f.len > CANFD_MAX_DLEN || !isValidFdLength(f.len)) return `invalid CAN FD length ${f.len}`;
    if ((f.fdFlags & ~CANFD_FLAGS_MASK) !== 0) return `unknown CAN FD flags 0x${f.fdFlags.toString(16)}`;
  } else if (f.len > CAN_MAX_DLEN) {
    return `classic CAN length ${f.len} > 8`;
  }
  if ((f.id & CAN_RTR_FLAG) === 0 && f.data.length !== f.len) return 'data length does not match len';
  return null;
}

/**
 * A standard frame (no EFF flag) whose id needs more than 11 bits cannot exist on a bus: a
 * SocketCAN socket would mask it to 11 bits (0x900 becomes 0x100) and send another device's
 * id. Wire protocols that carry raw can_ids (cannelloni, tcpcan) refuse such a frame; error
 * frames carry a class, not an id, and are left to the bus's own rule. Returns why, or null.
 */
export function standardIdProblem(id: number): string | null {
  if ((id & (CAN_EFF_FLAG | CAN_ERR_FLAG)) !== 0) return null;
  const bits = id & CAN_EFF_MASK;
  if (bits <= CAN_SFF_MASK) return null;
  return `standard id 0x${bits.toString(16)} is over 0x7FF (an extended id needs the EFF flag, bit 31)`;
}
