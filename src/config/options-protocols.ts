// The listeners of the protocols beside cannelloni (each off unless given an address) and
// their discovery broadcasts (off by default: broadcast leaves the machine); composed into
// the options table.
import { boolOption, enumParser, formatListen, type ListenAddress, opt, optionalListenOption, parseBool, parseListen } from './parsers.js';

export const GVRET_FD_FORMS = ['off', 'esp32ret', 'wiretap'] as const;

export const PROTOCOL_OPTIONS = {
  tcpcanListen: optionalListenOption({
    flag: 'tcpcan-listen',
    example: ':20010',
    default: null,
    help: 'TCP address for tcpcan clients (conventional port 20010; second bus: port + 1); off or empty = off',
    group: 'network',
    scope: 'structural',
  }),
  gvretListen: opt<ListenAddress | null>({
    flag: 'gvret-listen',
    kind: 'address',
    default: null,
    defaultText: 'off',
    expected: 'host:port like :2323 (SavvyCAN needs port 23), empty = off',
    help: 'TCP address for GVRET clients (SavvyCAN, WireTAP): one port serves every bus, GVRET bus 0 = the first --can-if; SavvyCAN connects only to port 23 (setup grants the service that one privilege); empty = off',
    group: 'network',
    scope: 'structural',
    parse: (raw) => parseListen(raw, true),
    format: formatListen,
    emptyIsValue: true,
  }),
  gvretFd: opt<(typeof GVRET_FD_FORMS)[number]>({
    flag: 'gvret-fd',
    kind: 'enum',
    default: 'off',
    expected: 'off, esp32ret or wiretap',
    help: "CAN FD frames to GVRET clients: off (withheld), esp32ret (F1 14, the ESP32RET form) or wiretap (F1 00 with a DLC code, WireTAP's form); SavvyCAN never gets them (its parser loses sync)",
    group: 'network',
    scope: 'structural',
    parse: enumParser(GVRET_FD_FORMS),
    choices: GVRET_FD_FORMS,
  }),
  gvretDiscovery: opt<boolean>({
    flag: 'gvret-discovery',
    kind: 'bool',
    default: false,
    expected: 'true or false',
    help: "broadcast the GVRET discovery ping (UDP 17222, every second) by which SavvyCAN lists devices; needs --gvret-listen",
    group: 'network',
    scope: 'structural',
    parse: parseBool,
  }),
  socketcandListen: optionalListenOption({
    flag: 'socketcand-listen',
    example: ':29536',
    default: null,
    help: 'TCP address for socketcand clients (python-can, SavvyCAN, Kayak; conventional port 29536); one port serves every bus, picked by `< open can0 >`; off or empty = off',
    group: 'network',
    scope: 'structural',
  }),
  socketcandBeacon: boolOption({
    flag: 'socketcand-beacon',
    default: false,
    help: 'broadcast the socketcand discovery beacon (UDP 42000, every 3 s) on each local IPv4 subnet, for SavvyCAN and python-can >= 4.4',
    group: 'observability',
    scope: 'structural',
  }),
} as const;
