// The socketcand discovery beacon (`--socketcand-beacon`): every 3 s one UDP datagram to the
// subnet broadcast address of each non-loopback IPv4 interface, port 42000, naming the URL to
// connect to and every bus, in upstream's exact form (SavvyCAN and python-can ≥ 4.4 listen
// for it). Upstream beacons on its one listen interface; the bridge usually listens on all,
// so it beacons on each, each datagram carrying that interface's own address. A listener
// bound to one address beacons only on the interface holding it; one bound to loopback not
// at all. Interfaces are read again before every round, so a DHCP lease that arrives late or
// changes is picked up. Off by default on the command line: broadcasts reach the whole LAN.
import dgram from 'node:dgram';
import os from 'node:os';
import { BEACON_INTERVAL_MS, BEACON_PORT, beaconMessage } from './codec.js';
import type { LogFn } from '../../core/log-fn.js';

export interface BeaconTarget {
  iface: string;
  /** The interface's own address: the URL in the beacon. */
  address: string;
  /** Its subnet broadcast address: where the beacon goes. */
  broadcast: string;
}

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

const toInt = (ip: string): number => ip.split('.').reduce((n, part) => (n << 8) | Number(part), 0) >>> 0;
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');

/** Where to beacon for a listener bound to `listenHost`. */
export function beaconTargets(interfaces: Interfaces, listenHost: string): BeaconTarget[] {
  const targets: BeaconTarget[] = [];
  for (const [iface, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      if (!WILDCARD.has(listenHost) && a.address !== listenHost) continue;
      const mask = toInt(a.netmask);
      // A /31 or /32 has no broadcast address of its own.
      if (mask >>> 0 === 0xffffffff || mask >>> 0 === 0xfffffffe) continue;
      targets.push({ iface, address: a.address, broadcast: toIp((toInt(a.address) & mask) | (~mask >>> 0)) });
    }
  }
  return targets;
}

export interface BeaconOptions {
  /** The socketcand TCP port the beacon advertises. */
  port: number;
  /** The socketcand listen host (wildcard = every interface). */
  listenHost: string;
  /** Bus names as `< open … >` takes them. */
  buses: readonly string[];
  hostname?: string;
  description?: string;
  intervalMs?: number;
  /** Destination UDP port (42000 unless a test says otherwise). */
  beaconPort?: number;
  interfaces?: () => Interfaces;
  log: LogFn;
}

export class SocketcandBeacon {
  private socket: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastTargets = '';
  /** Datagrams sent (for tests and logs). */
  sent = 0;

  constructor(private readonly options: BeaconOptions) {}

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4' });
    socket.on('error', (err) => this.options.log('warn', 'socketcand_beacon_error', { error: err.message }));
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    socket.setBroadcast(true);
    this.socket = socket;
    this.round();
    this.timer = setInterval(() => this.round(), this.options.intervalMs ?? BEACON_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private round(): void {
    const socket = this.socket;
    if (!socket) return;
    const o = this.options;
    const targets = beaconTargets((o.interfaces ?? os.networkInterfaces)(), o.listenHost);
    const summary = targets.map((t) => `${t.iface}:${t.broadcast}`).join(',');
    if (summary !== this.lastTargets) {
      this.lastTargets = summary;
      if (targets.length === 0)
        o.log('warn', 'socketcand_beacon_idle', {
          listen: o.listenHost,
          hint: 'no non-loopback IPv4 interface with a broadcast address matches the socketcand listen address',
        });
      else o.log('info', 'socketcand_beacon', { targets: summary, port: o.port });
    }
    const hostname = o.hostname ?? os.hostname();
    for (const t of targets) {
      const text = beaconMessage({ hostname, address: t.address, port: o.port, buses: o.buses, description: o.description });
      socket.send(text, o.beaconPort ?? BEACON_PORT, t.broadcast, (err) => {
        if (err) o.log('debug', 'socketcand_beacon_send_failed', { iface: t.iface, error: err.message });
        else this.sent++;
      });
    }
  }
}
