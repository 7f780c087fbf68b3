// A few file descriptors held back for when the process runs out (EMFILE): released the
// moment accept() fails, they let the control socket and /metrics accept their next
// connection (so `status` can say what is wrong), and are taken again once descriptors are
// free. /dev/null is opened read-only: it exists everywhere and costs nothing.
import { closeSync, openSync } from 'node:fs';

export class FdReserve {
  private fds: number[] = [];

  constructor(private readonly size = 16) {}

  /** Takes descriptors until `size` are held; returns how many are held (fewer when short). */
  fill(): number {
    while (this.fds.length < this.size) {
      try {
        this.fds.push(openSync('/dev/null', 'r'));
      } catch {
        break;
      }
    }
    return this.fds.length;
  }

  /** Gives every held descriptor back to the process. */
  release(): number {
    const n = this.fds.length;
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed: nothing to give back
      }
    }
    return n;
  }

  get held(): number {
    return this.fds.length;
  }
}
