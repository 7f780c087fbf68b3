// The GVRET discovery ping: ESP32RET firmware broadcasts `1C EF AC ED` to UDP 17222 every
// second, and SavvyCAN lists the sender's address as a device to connect to. Broadcast leaves
// the machine, so this is off unless asked for (--gvret-discovery).
import dgram from 'node:dgram';
import type { LogFn } from '../../core/log-fn.js';

export const GVRET_DISCOVERY_PORT = 17222;
export const GVRET_DISCOVERY_PAYLOAD = Uint8Array.from([0x1c, 0xef, 0xac, 0xed]);

export interface GvretDiscoveryOptions {
  /** Default 255.255.255.255 (what the firmware sends to). */
  address?: string;
  /** Default 17222. */
  port?: number;
  /** Default 1000 ms. */
  intervalMs?: number;
  log: LogFn;
}

export interface GvretDiscovery {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Pings sent and send failures so far. */
  counters(): { sent: number; failed: number };
}

export function createGvretDiscovery(options: GvretDiscoveryOptions): GvretDiscovery {
  const address = options.address ?? '255.255.255.255';
  const port = options.port ?? GVRET_DISCOVERY_PORT;
  const intervalMs = options.intervalMs ?? 1000;
  let socket: dgram.Socket | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sent = 0;
  let failed = 0;
  /** Logged once per run of failures, so a missing route does not flood the log every second. */
  let failing = false;

  const ping = (): void => {
    socket?.send(GVRET_DISCOVERY_PAYLOAD, port, address, (err) => {
      if (!err) {
        sent++;
        if (failing) options.log('info', 'gvret_discovery_recovered', { address, port });
        failing = false;
        return;
      }
      failed++;
      if (!failing) {
        options.log('warn', 'gvret_discovery_failed', {
          address,
          port,
          error: err.message,
          hint: 'the broadcast needs a network route (a default route or an interface up); SavvyCAN can still connect by address',
        });
      }
      failing = true;
    });
  };

  return {
    async start() {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.setBroadcast(true);
      s.on('error', (err) => options.log('warn', 'gvret_discovery_failed', { address, port, error: err.message }));
      socket = s;
      options.log('info', 'gvret_discovery_started', { address, port, interval_ms: intervalMs });
      ping();
      timer = setInterval(ping, intervalMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const s = socket;
      socket = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    counters: () => ({ sent, failed }),
  };
}
