// Who may connect (--allow) and who may send (--tx-allow): lists of CIDR ranges matched
// against a peer's address before anything is read from it. Pure: addresses are parsed here
// (no node:net), so the options table and provisioning can use it too.
//
// Every address is held as 16 bytes: IPv4 as the IPv4-mapped IPv6 form ::ffff:a.b.c.d and an
// IPv4 prefix /n as /96+n. A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d, so
// both spellings of one peer land on the same bytes and match the same IPv4 ranges.

export class AddressListError extends Error {}

export interface Cidr {
  /** 16 numbers, not a Uint8Array: the loaded config is deep-frozen by copying plain values. */
  readonly bytes: readonly number[];
  /** Prefix length on the 16-byte form (IPv4 /n is 96 + n). */
  readonly bits: number;
  /** As written by the user (or as the default set spells it). */
  readonly text: string;
}

export interface AddressList {
  /** `any`: every address (the explicit opt-out). */
  readonly any: boolean;
  readonly cidrs: readonly Cidr[];
  /** The words the list was parsed from (keywords kept), for formatting back. */
  readonly words: readonly string[];
}

/** Loopback: this machine only. */
export const LOOPBACK_RANGES = ['127.0.0.0/8', '::1/128'] as const;
/**
 * The default: loopback, the RFC 1918 private ranges, IPv4 link-local, IPv6 unique-local and
 * link-local. A home LAN is always inside these; a public source address is not.
 */
export const LOCAL_RANGES = [...LOOPBACK_RANGES, '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'] as const;

/** Keywords accepted in a list, besides CIDRs and single addresses. */
export const ADDRESS_KEYWORDS = { local: LOCAL_RANGES, loopback: LOOPBACK_RANGES } as const;

/** Parses an IPv4 or IPv6 address (zone `%eth0` ignored) into 16 bytes; null if it is not one. */
export function parseIp(text: string): Uint8Array | null {
  let t = text.trim();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (!t.includes(':')) {
    const v4 = parseIpv4(t);
    if (!v4) return null;
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  return parseIpv6(t);
}

function parseIpv4(t: string): Uint8Array | null {
  const parts = t.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(t: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(t)) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.includes('.')) {
        // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups, and only at the end.
        if (i !== items.length - 1) return null;
        const v4 = parseIpv4(item);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (`/32`, `/128`). */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash < 0 ? t : t.slice(0, slash);
  const bytes = parseIp(addrText);
  if (!bytes) throw new AddressListError(`"${t}" is not an IP address or CIDR range (like 192.168.1.0/24 or fd00::/8)`);
  const v4 = !addrText.includes(':');
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new AddressListError(`"${t}": the prefix length must be 0..${max}`);
    prefix = Number(p);
  }
  const bits = v4 ? 96 + prefix : prefix;
  return { bytes: maskBytes(bytes, bits), bits, text: t };
}

function maskBytes(bytes: Uint8Array, bits: number): number[] {
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = bytes[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  const full = cidr.bits >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== cidr.bytes[i]) return false;
  const rest = cidr.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full] & mask) === cidr.bytes[full];
}

/**
 * Parses `--allow`/`--tx-allow`: comma-separated CIDRs, single addresses and the keywords
 * `local` (the default set), `loopback` and `any`.
 */
export function parseAddressList(raw: string): AddressList {
  const words = raw
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  if (words.length === 0) throw new AddressListError('the list is empty (use local, loopback, any or CIDR ranges)');
  const cidrs: Cidr[] = [];
  let any = false;
  for (const w of words) {
    const lower = w.toLowerCase();
    if (lower === 'any') any = true;
    else if (lower in ADDRESS_KEYWORDS) cidrs.push(...ADDRESS_KEYWORDS[lower as keyof typeof ADDRESS_KEYWORDS].map(parseCidr));
    else cidrs.push(parseCidr(w));
  }
  if (any && words.length > 1) throw new AddressListError('"any" admits every address: list nothing else with it');
  return { any, cidrs, words };
}

export function formatAddressList(list: AddressList): string {
  return list.words.join(',');
}

export const DEFAULT_ALLOW: AddressList = parseAddressList('local');

/** Whether `address` (as Node reports a peer: `::ffff:10.0.0.7`, `fe80::1%eth0`, `10.0.0.7`) is in the list. */
export function addressAllowed(list: AddressList, address: string | undefined): boolean {
  if (list.any) return true;
  if (!address) return false;
  const bytes = parseIp(address);
  if (!bytes) return false;
  for (const c of list.cidrs) if (cidrContains(c, bytes)) return true;
  return false;
}

/** Whether the address is outside every local range (a public address). */
export function isPublicAddress(address: string): boolean {
  return !addressAllowed(DEFAULT_ALLOW, address);
}

/** The peer's address without the ::ffff: prefix of IPv4-mapped IPv6 (for logs and per-host keys). */
export function hostKey(address: string | undefined): string {
  if (!address) return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The entries of a list that admit addresses outside the local ranges (`any` included). */
export function nonLocalEntries(list: AddressList): string[] {
  if (list.any) return ['any'];
  const out: string[] = [];
  for (const c of list.cidrs) {
    const inside = DEFAULT_ALLOW.cidrs.some((l) => c.bits >= l.bits && cidrContains(l, Uint8Array.from(c.bytes)));
    if (!inside) out.push(c.text);
  }
  return out;
}
