// mDNS / DNS-SD: advertise each TCP listener as `_can-server._tcp` (go-ampio-server's
// service type, so its clients keep finding the bridge), withdraw it with goodbye packets on
// shutdown, and browse for bridges (`ampio-bridge discover`).
//
// bonjour-service is loaded lazily: `serve` without --mdns-enable never loads it.
import type { Browser, Service } from 'bonjour-service';
import type { LogFn } from '../core/log-fn.js';
import { isWildcardHost } from '../options/parsers.js';

export const MDNS_SERVICE_TYPE = 'can-server';

export type MdnsLog = LogFn;

export interface MdnsListener {
  /** Bus name (can0, /dev/ttyUSB0, virtual0). */
  bus: string;
  /** The bound listen host ('' or a wildcard = every interface) and port. */
  host: string;
  port: number;
  bitrate?: number | null;
  /** Service type without `_`/`._tcp`; default `can-server` (cannelloni, as go-ampio-server). */
  type?: string;
  /** Wire protocol for the `proto` TXT key; default cannelloni. */
  proto?: string;
  /** Extra TXT entries of the protocol. */
  txt?: Record<string, string>;
}

export interface MdnsAdvertiserOptions {
  /** --mdns-name; '' = `ampio-bridge-<hostname>`. */
  name: string;
  hostname: string;
  backend: string;
  version: string;
  listeners: MdnsListener[];
  log: MdnsLog;
  /** Options for multicast-dns (tests may pin the interface); default: all interfaces. */
  multicast?: Record<string, unknown>;
  /** How long stop() waits for the goodbye packets to be sent. Default 1000 ms. */
  goodbyeTimeoutMs?: number;
}

export interface MdnsAdvertiser {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Instance names, one per listener. */
  readonly names: string[];
}

/** A bus name as an mDNS label part: `/dev/ttyUSB0` → `ttyUSB0`. */
function busLabel(bus: string): string {
  const base = bus.split('/').filter(Boolean).pop() ?? bus;
  return base.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'bus';
}

/**
 * Instance names: the base (or `ampio-bridge-<hostname>`), plus `-<bus>` when serving more
 * than one bus so the two advertisements do not collide. DNS labels hold at most 63 bytes.
 */
export function mdnsInstanceNames(base: string, hostname: string, buses: string[]): string[] {
  const root = (base.trim() || `ampio-bridge-${hostname.split('.')[0]}`).replace(/\./g, '-');
  if (buses.length <= 1) return [root.slice(0, 63)];
  return buses.map((b) => {
    const suffix = `-${busLabel(b)}`;
    return root.slice(0, 63 - suffix.length) + suffix;
  });
}

/** TXT of one listener (no secrets; values are short strings). */
export function mdnsTxt(backend: string, version: string, l: MdnsListener): Record<string, string> {
  const txt: Record<string, string> = { ...l.txt, backend, bus: l.bus, version, proto: l.proto ?? 'cannelloni' };
  if (l.bitrate) txt.bitrate = String(l.bitrate);
  return txt;
}

type BonjourModule = typeof import('bonjour-service');
type BonjourInstance = InstanceType<BonjourModule['Bonjour']>;

async function loadBonjour(): Promise<BonjourModule['Bonjour']> {
  const mod = (await import('bonjour-service')) as unknown as { default: BonjourModule; Bonjour?: BonjourModule['Bonjour'] };
  return mod.Bonjour ?? mod.default.Bonjour;
}

/**
 * For a listener bound to one address, advertise that address only: the bridge is not
 * reachable on the others. bonjour-service derives A/AAAA records from every non-internal
 * interface; `records()` is its public hook for the record set (used for the announcement
 * after probing and for the goodbye), so we replace the address records there.
 */
function pinAddresses(service: Service, address: string): void {
  const original = service.records.bind(service);
  const type = address.includes(':') ? 'AAAA' : 'A';
  service.records = () => [...original().filter((r) => r.type !== 'A' && r.type !== 'AAAA'), { name: service.host, type, ttl: 120, data: address }];
}

export function createMdnsAdvertiser(opts: MdnsAdvertiserOptions): MdnsAdvertiser {
  // Names are unique per service type: a bus suffix only where one type has several listeners.
  const typeOf = (l: MdnsListener): string => l.type ?? MDNS_SERVICE_TYPE;
  const names = opts.listeners.map((l) => {
    const sameType = opts.listeners.filter((o) => typeOf(o) === typeOf(l));
    return mdnsInstanceNames(
      opts.name,
      opts.hostname,
      sameType.map((o) => o.bus),
    )[sameType.indexOf(l)];
  });
  // SRV targets must be a .local host name (RFC 6762); os.hostname() usually is not.
  const host = `${opts.hostname.split('.')[0]}.local`;
  let bonjour: BonjourInstance | null = null;

  return {
    names,
    async start() {
      if (bonjour) return;
      const Bonjour = await loadBonjour();
      // bonjour-service's default error callback throws from a socket callback, which would
      // crash the daemon: an mDNS problem must only be logged.
      bonjour = new Bonjour(opts.multicast ?? {}, (err: Error) => opts.log('warn', 'mdns_error', { error: String(err) }));
      opts.listeners.forEach((l, i) => {
        const name = names[i];
        const type = typeOf(l);
        const service = bonjour!.publish({ name, type, protocol: 'tcp', port: l.port, host, txt: mdnsTxt(opts.backend, opts.version, l) });
        const bound = l.host.replace(/^\[|\]$/g, '');
        if (!isWildcardHost(l.host)) pinAddresses(service, bound);
        service.on('up', () =>
          opts.log('info', 'mdns_published', { name, type: `_${type}._tcp`, port: l.port, bus: l.bus, host, protocol: l.proto ?? 'cannelloni' }),
        );
        service.on('error', (err: unknown) => opts.log('warn', 'mdns_error', { name, error: String(err) }));
      });
    },
    async stop() {
      const b = bonjour;
      if (!b) return;
      bonjour = null;
      // Goodbye packets (TTL 0) so browsers drop us at once instead of after the TTL.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.goodbyeTimeoutMs ?? 1000);
        timer.unref();
        b.unpublishAll(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await new Promise<void>((resolve) => b.destroy(() => resolve()));
      opts.log('info', 'mdns_withdrawn', { names: names.join(',') });
    },
  };
}

// ---------------------------------------------------------------- browsing

export interface DiscoveredBridge {
  name: string;
  host: string;
  port: number;
  addresses: string[];
  bus: string | null;
  version: string | null;
  backend: string | null;
  txt: Record<string, string>;
}

export interface BrowseOptions {
  timeoutMs: number;
  multicast?: Record<string, unknown>;
  /** Called as each bridge appears (for live output); the result lists them all. */
  onFound?: (b: DiscoveredBridge) => void;
}

/** Browses `_can-server._tcp` for `timeoutMs` and returns what answered, by name. */
export async function browseBridges(opts: BrowseOptions): Promise<DiscoveredBridge[]> {
  const Bonjour = await loadBonjour();
  const errors: Error[] = [];
  const bonjour = new Bonjour(opts.multicast ?? {}, (err: Error) => errors.push(err));
  const found = new Map<string, DiscoveredBridge>();
  const toBridge = (s: Service): DiscoveredBridge => {
    const txt: Record<string, string> = {};
    for (const [k, v] of Object.entries((s.txt ?? {}) as Record<string, unknown>)) txt[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    return {
      name: s.name,
      host: s.host,
      port: s.port,
      addresses: [...(s.addresses ?? [])].sort(),
      bus: txt.bus ?? null,
      version: txt.version ?? null,
      backend: txt.backend ?? null,
      txt,
    };
  };
  const record = (s: Service): void => {
    const b = toBridge(s);
    const isNew = !found.has(b.name);
    found.set(b.name, b);
    if (isNew) opts.onFound?.(b);
  };
  let browser: Browser | null = null;
  try {
    browser = bonjour.find({ type: MDNS_SERVICE_TYPE, protocol: 'tcp' }, record);
    browser.on('srv-update', (s: Service) => record(s));
    browser.on('txt-update', (s: Service) => record(s));
    browser.on('down', (s: Service) => found.delete(s.name));
    await new Promise((resolve) => setTimeout(resolve, opts.timeoutMs));
  } finally {
    browser?.stop();
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }
  if (errors.length > 0 && found.size === 0) throw errors[0];
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
