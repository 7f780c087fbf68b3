// The two settings of a CAN socket a reload may change while it is open: the read pacing
// (--can-rx-coalesce, never above --flush-interval) and the receive buffer (--can-rcvbuf).
// A new value is applied to the open socket at once and asked for by every later open; the
// kernel's answer is logged, and a buffer it capped (net.core.rmem_max) is warned about
// once per size asked for.
import type { LogFn } from '../../core/log-fn.js';
import { type CanSocketLike, errnoName } from './binding.js';
import type { Config } from '../../config/options.js';
import { rcvbufShortfall } from './kernel-drops.js';

export class SocketTuning {
  /** Read pacing in whole ms (libuv timers count milliseconds; 1.5 paces at 2, never at 1). */
  coalesceMs: number;
  /** The receive buffer asked for, bytes (0 = the kernel's default). */
  rcvbuf: number;
  private warnedFor: number | null = null;

  constructor(
    private readonly ifname: string,
    settings: { rxCoalesceMs: number; rcvbuf: number },
    private readonly log: LogFn,
  ) {
    this.coalesceMs = Math.ceil(settings.rxCoalesceMs);
    this.rcvbuf = settings.rcvbuf;
  }

  /** A reload: what changed is applied to `sock` (the open socket, if any) now. */
  apply(settings: { rxCoalesceMs: number; rcvbuf: number }, sock: CanSocketLike | null): void {
    const log = this.log;
    const coalesceMs = Math.ceil(settings.rxCoalesceMs);
    if (coalesceMs !== this.coalesceMs) {
      this.coalesceMs = coalesceMs;
      const errno = sock?.setPacing(coalesceMs) ?? 0;
      if (errno !== 0) log('warn', 'socketcan_pacing_failed', { if: this.ifname, errno: errnoName(errno), rxCoalesceMs: coalesceMs });
      else log('info', 'socketcan_pacing', { if: this.ifname, rxCoalesceMs: coalesceMs });
    }
    if (settings.rcvbuf !== this.rcvbuf) {
      this.rcvbuf = settings.rcvbuf;
      if (!sock) return;
      const granted = sock.setRcvbuf(this.rcvbuf);
      if (granted < 0) log('warn', 'socketcan_rcvbuf_failed', { if: this.ifname, errno: errnoName(-granted), asked: this.rcvbuf });
      else log('info', 'socketcan_rcvbuf', { if: this.ifname, asked: this.rcvbuf, rcvbuf: granted });
      this.opened(sock);
    }
  }

  /** After an open (or a new buffer): says, once per size asked for, that the kernel capped it. */
  opened(sock: CanSocketLike): void {
    const limited = rcvbufShortfall(this.ifname, this.rcvbuf, sock.info().rcvbuf);
    if (!limited || this.warnedFor === this.rcvbuf) return;
    this.warnedFor = this.rcvbuf;
    this.log('warn', 'socketcan_rcvbuf_limited', { if: this.ifname, message: limited });
  }
}

/**
 * The SocketCAN read pacing in force: --can-rx-coalesce, never above --flush-interval.
 * Paced frames are written to the clients at the end of their read, so with this bound a
 * frame still waits at most the flush interval (and --flush-interval 0 switches pacing off).
 */
export function rxCoalesceMs(config: Pick<Config, 'canRxCoalesce' | 'flushInterval'>): number {
  return Math.min(config.canRxCoalesce, config.flushInterval);
}
