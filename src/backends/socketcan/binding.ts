// The SocketCAN backend's native part: ampio-bridge's own Node-API addon
// (src/backends/socketcan/native/ampio_can.c), loaded lazily, only by this backend, through
// node-gyp-build: a local build/ first, else the prebuilt binary the package ships for
// linux-x64, linux-arm64 and linux-arm (ARMv6 hard-float, every Raspberry Pi), so a Pi
// needs no compiler. Also the pure decoding of the packed batches the addon hands over.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CANFD_FDF, type CanFrame } from '../../core/frame.js';
import { findPackageRoot } from '../../system/package-root.js';
import { BackendError } from '../types.js';

export interface CanSocketOptions {
  /** CAN_RAW_FD_FRAMES: read and write CAN FD frames (the interface has MTU 72). */
  fd: boolean;
  /** CAN_RAW_ERR_FILTER: which error-frame classes the kernel reports. */
  errorMask: number;
  /** CAN_RAW_RECV_OWN_MSGS: our own frames come back, flagged, once transmitted. */
  recvOwn: boolean;
  /** SO_RCVBUF(FORCE) in bytes; 0 = the kernel's default. */
  rcvbuf: number;
  /** Most frames read per readiness callback before other I/O gets a turn (default 256). */
  wakeupCap?: number;
  /**
   * Read pacing, ms (0 = off): while frames come faster than one per this interval the
   * socket is read on a timer, each read taking everything queued (one wakeup, one batch).
   */
  coalesceMs?: number;
}

/**
 * Called once per read with every frame read (records of RECORD_SIZE bytes), the socket's
 * cumulative kernel drop counter, 0, and whether the read came from the pacing timer (the
 * frames waited in the kernel's queue up to coalesceMs); or with (null, 0, drops, errno)
 * when the socket failed (ENETDOWN: link down; ENODEV: interface removed). Reading then stops.
 */
export type BatchCallback = (batch: Buffer | null, count: number, kernelDrops: number, errno: number, paced?: boolean) => void;

export interface CanSocketLike {
  /** Writes one frame without blocking: 0, or the errno (ENOBUFS: the qdisc is full). */
  send(id: number, data: Uint8Array | null, len: number, flags: number, fd: boolean): number;
  /** CAN_RAW_FILTER as [id, mask, id, mask, …]; null = every frame. 0 or the errno. */
  setFilters(pairs: Uint32Array | null): number;
  /** Changes the read pacing (whole ms, 0 = off) of the open socket. 0 or the errno. */
  setPacing(ms: number): number;
  /** Asks for a new receive buffer (bytes; 0 = the kernel's default): what was granted, as info().rcvbuf, or −errno. */
  setRcvbuf(bytes: number): number;
  /** The socket's cumulative kernel drop counter, read now (SO_MEMINFO). */
  kernelDrops(): number;
  /** Stops reading and closes the descriptor. Idempotent. */
  close(): void;
  /** `paced`: the queue is being read on the coalescing timer (frames arrive fast). */
  info(): { rcvbuf: number; ifindex: number; fd: number; closed: boolean; paced: boolean };
}

export interface CanBinding {
  /** Opens and binds a CAN_RAW socket; throws an Error whose `code` is the errno name. */
  open(ifname: string, options: CanSocketOptions, onBatch: BatchCallback): CanSocketLike;
  /** 0 when this kernel can create a CAN_RAW socket, else the errno (needs no interface). */
  probe(): number;
}

interface NativeModule {
  CanSocket: new (ifname: string, options: CanSocketOptions, onBatch: BatchCallback) => CanSocketLike;
  probe(): number;
  RECORD_SIZE: number;
}

/** Bytes per frame record in a batch (the addon's layout, checked at load). */
export const RECORD_SIZE = 80;
const META_FD = 1;
const META_CONFIRM = 2;
const META_TIMESTAMP = 4;

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));
/** `ENOBUFS` for 105, … (`E<n>` for a number this platform does not name). */
export const errnoName = (n: number): string => ERRNO_NAMES.get(n) ?? `E${n}`;

const packageRoot = (): string => findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? '<the ampio-bridge install directory>';

/** node-gyp-build resolved against our package root: returns the addon's exports. */
function defaultLoader(): unknown {
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as (dir: string) => unknown;
  return load(packageRoot());
}

/**
 * Loads the addon. Every failure becomes a BackendError whose hint says what to run.
 * `loader` is injectable so the messages can be tested.
 */
export function loadCanBinding(loader: () => unknown = defaultLoader): CanBinding {
  let mod: NativeModule;
  try {
    mod = loader() as NativeModule;
  } catch (err) {
    const text = String((err as Error)?.message ?? err).split('\n')[0];
    const root = packageRoot();
    if (/No native build was found/.test(text)) {
      throw new BackendError(
        'socketcan_binding_missing',
        `no prebuilt SocketCAN binding fits this system (${process.platform}-${process.arch}); ampio-bridge ships them for linux-x64, linux-arm64 and linux-arm`,
        `build it here once: sudo apt install build-essential python3 && cd ${root} && npx node-gyp rebuild   (or use --backend serial / --backend virtual)`,
        { cause: err },
      );
    }
    throw new BackendError(
      'socketcan_binding_broken',
      `the SocketCAN binding does not load: ${text}`,
      `reinstall ampio-bridge (npm install -g ampio-bridge), or rebuild it: cd ${root} && npx node-gyp rebuild`,
      { cause: err },
    );
  }
  if (typeof mod?.CanSocket !== 'function' || typeof mod.probe !== 'function' || mod.RECORD_SIZE !== RECORD_SIZE) {
    throw new BackendError(
      'socketcan_binding_broken',
      'the SocketCAN binding found is not the one this version of ampio-bridge was built with',
      `rebuild it: cd ${packageRoot()} && rm -rf build && npx node-gyp rebuild, or reinstall ampio-bridge`,
    );
  }
  return {
    open: (ifname, options, onBatch) => new mod.CanSocket(ifname, options, onBatch),
    probe: () => mod.probe(),
  };
}

// ---------------------------------------------------------------- batch decoding (pure)

const EMPTY = new Uint8Array(0);

export interface DecodedRecord {
  frame: CanFrame;
  /** MSG_CONFIRM: a frame this socket sent, now transmitted by the device. */
  own: boolean;
}

/**
 * Decodes `count` records of a batch, calling `each` per frame. Payloads are views into
 * the batch (no copy): the addon gives every batch its own buffer. `wallClock` stamps a
 * frame the kernel did not time (`kernelTime` false).
 */
export function decodeBatch(batch: Buffer, count: number, wallClock: () => number, each: (frame: CanFrame, own: boolean, kernelTime: boolean) => void): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let fallback = 0;
  for (let i = 0, base = 0; i < count; i++, base += RECORD_SIZE) {
    const id = view.getUint32(base, true);
    const meta = batch[base + 6];
    const fd = (meta & META_FD) !== 0;
    // RTR frames carry a DLC but no data; an FD frame has no RTR bit.
    const rtr = !fd && (id & 0x40000000) !== 0;
    const len = Math.min(batch[base + 4], fd ? 64 : 8);
    let timestamp: number;
    const kernelTime = (meta & META_TIMESTAMP) !== 0;
    if (kernelTime) timestamp = view.getUint32(base + 72, true) * 1000 + view.getUint32(base + 76, true) / 1e6;
    else timestamp = fallback || (fallback = wallClock());
    const frame: CanFrame = {
      id,
      len,
      data: rtr ? EMPTY : new Uint8Array(batch.buffer, batch.byteOffset + base + 8, len),
      fd,
      // FDF is implied by an FD frame: keep the flags the wire protocols carry (BRS, ESI).
      fdFlags: fd ? batch[base + 5] & ~CANFD_FDF & 0x07 : 0,
      timestamp,
    };
    each(frame, (meta & META_CONFIRM) !== 0, kernelTime);
  }
}
