// The access-control options (who may connect, who may send, per-host limits, how stale a
// frame may get for a slow client): parsed by src/guard/, composed into the options table.
import { type AddressList, DEFAULT_ALLOW, formatAddressList, parseAddressList } from '../guard/address-list.js';
import { formatIdMaskList, type IdMask, parseIdMaskList } from '../guard/id-mask.js';
import { formatTxRate, parseTxRate, type TxRate } from '../guard/token-bucket.js';
import { durationOption, intOption, opt, OptionValueError } from '../options/parsers.js';

/** The guard parsers throw plain errors; the loader wants OptionValueError. */
function wrapGuardError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new OptionValueError(err instanceof Error ? err.message : String(err));
  }
}

export const ACCESS_OPTIONS = {
  allow: opt<AddressList>({
    flag: 'allow',
    kind: 'list',
    default: DEFAULT_ALLOW,
    expected: 'CIDR ranges or addresses, local, loopback or any (e.g. local,100.64.0.0/10)',
    help: 'who may connect to the bus ports, checked before the hello: local = loopback, RFC 1918, link-local, IPv6 ULA/link-local; loopback = this machine only; any = everyone (the protocols have no passwords)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseAddressList(raw)),
    format: formatAddressList,
  }),
  txAllow: opt<AddressList | null>({
    flag: 'tx-allow',
    kind: 'list',
    default: null,
    defaultText: 'same as --allow',
    expected: 'CIDR ranges or addresses, local, loopback or any',
    help: 'who may send frames to the bus; clients outside it only listen (their frames are dropped and counted, they are not closed)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => (raw.trim() === '' ? null : wrapGuardError(() => parseAddressList(raw))),
    format: (v) => (v ? formatAddressList(v) : ''),
  }),
  txRate: opt<TxRate | null>({
    flag: 'tx-rate',
    kind: 'string',
    default: null,
    defaultText: 'off',
    expected: 'frames/s like 100, or 100/20 for a burst of 20; 0 = off',
    help: "frames per second each client may send to the bus (token bucket; burst defaults to one second's worth); extra frames are dropped and counted as rate_limited",
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseTxRate(raw)),
    format: formatTxRate,
  }),
  txIds: opt<IdMask[]>({
    flag: 'tx-ids',
    kind: 'list',
    default: [],
    defaultText: 'every ID',
    expected: 'hex id/mask pairs like 100/700,1d0',
    help: 'CAN IDs clients may send (id/mask in hex, as SocketCAN filters; 8 hex digits or above 7ff = extended); others are dropped and counted as id_not_allowed',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseIdMaskList(raw)),
    format: formatIdMaskList,
  }),
  maxPendingPerHost: intOption(1, 1024, {
    flag: 'max-pending-per-host',
    unit: 'connections',
    default: 8,
    help: 'connections one host may have waiting for their handshake (they take no client slot); over it, its oldest waiting connection is closed',
    group: 'network',
    scope: 'reloadable',
  }),
  maxClientsPerHost: intOption(0, 100_000, {
    flag: 'max-clients-per-host',
    unit: 'clients',
    zero: 'unlimited',
    default: 16,
    help: 'clients one host may have connected, all ports together (a global IPv6 address counts by its /64); extra connections are refused and counted (0 = unlimited)',
    group: 'network',
    scope: 'reloadable',
  }),
  clientMaxLag: durationOption({
    flag: 'client-max-lag',
    example: '2s',
    min: 50,
    max: 600_000,
    default: 2000,
    help: 'no client is sent a frame older than this: frames that waited longer for a slow client are dropped for it (counted as stale; with --hub-policy kick the client is closed)',
    group: 'hub',
    scope: 'reloadable',
  }),
} as const;
