// Reads how many bytes the kernel holds, per TCP connection, that the peer has not yet
// acknowledged (Linux: the tx_queue column of /proc/net/tcp and /proc/net/tcp6, the same
// number `ss -tn` shows as Send-Q). Node has no getsockopt/ioctl for it, and no way to cap
// SO_SNDBUF; this is the only view of what the kernel's (autotuned, up to megabytes) send
// buffer holds for a slow client. Both files are read in one go, at most a few times a
// second, and only while some client has bytes in flight.
import { readFile } from 'node:fs/promises';
import { parseProcNetTcp } from '../guard/write-ledger.js';

export interface TcpSendQueues {
  /** Key (see guard/write-ledger tcpKey) → unacknowledged bytes; null when /proc cannot be read. */
  read(): Promise<Map<string, number> | null>;
}

export function procTcpSendQueues(files: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6']): TcpSendQueues {
  let unavailable = false;
  return {
    async read() {
      if (unavailable) return null;
      const map = new Map<string, number>();
      let any = false;
      let missing = 0;
      for (const f of files) {
        try {
          parseProcNetTcp(await readFile(f, 'latin1'), map);
          any = true;
        } catch (err) {
          // tcp6 is absent on a kernel without IPv6; that is fine as long as one file reads.
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') missing++;
        }
      }
      // Not Linux, or /proc hidden: stop trying. (Out of descriptors is only for now.)
      if (missing === files.length) unavailable = true;
      return any ? map : null;
    },
  };
}
