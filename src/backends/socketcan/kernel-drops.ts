// Received frames the kernel dropped because the bridge read too late (the socket's receive
// buffer, `--can-rcvbuf`, was full), counted across reopens: every socket's own counter
// (SO_RXQ_OVFL with each batch, SO_MEMINFO when asked) starts again at 0, so what closed
// sockets dropped is kept apart. Warns at most once per interval, with what was dropped
// since the last warning.

const WARN_EVERY_MS = 10_000;

/** What the warning tells the user. */
export const KERNEL_DROPS_MESSAGE = 'the kernel dropped received frames because the bridge read too late: the host is overloaded or --can-rcvbuf is too small';

/**
 * Null when the kernel granted the receive buffer asked for, else the warning. The kernel
 * reports twice what it allows (the other half is its bookkeeping) and caps what a socket
 * without CAP_NET_ADMIN may ask for at net.core.rmem_max (212992 bytes on Debian and
 * Raspberry Pi OS), which is how the installed service (an unprivileged user) runs.
 */
export function rcvbufShortfall(ifname: string, requested: number, granted: number): string | null {
  if (requested <= 0 || granted >= 2 * requested) return null;
  return `${ifname}: the kernel allows a receive buffer of ${Math.floor(granted / 2)} bytes, not the ${requested} asked for (--can-rcvbuf), because net.core.rmem_max caps it for an unprivileged service: bursts overflow it sooner. Run "sudo ampio-bridge setup" (it writes /etc/sysctl.d/60-ampio-bridge.conf) or "sudo sysctl -w net.core.rmem_max=${requested}"`;
}

export class KernelDrops {
  /** Drops of sockets already closed. */
  private closed = 0;
  /** The open socket's cumulative counter. */
  private current = 0;
  private warned = 0;
  private lastWarnAt = -Infinity;

  constructor(
    private readonly now: () => number,
    private readonly warn: (dropped: number, total: number) => void,
    private readonly warnEveryMs = WARN_EVERY_MS,
  ) {}

  get total(): number {
    return this.closed + this.current;
  }

  /** `socketTotal`: the open socket's cumulative drop counter, as just read. */
  note(socketTotal: number): void {
    if (socketTotal > this.current) this.current = socketTotal;
    const all = this.total;
    if (all === this.warned) return;
    const now = this.now();
    if (now - this.lastWarnAt < this.warnEveryMs) return;
    this.lastWarnAt = now;
    this.warn(all - this.warned, all);
    this.warned = all;
  }

  /** After the last note() of a socket that closes: the next one counts from 0. */
  socketClosed(): void {
    this.closed += this.current;
    this.current = 0;
  }
}
