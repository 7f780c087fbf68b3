// GVRET as the registry sees it: one port for every bus, the FD form for non-SavvyCAN
// clients, the UDP discovery ping SavvyCAN lists devices by, and setup's offer of port 23
// (the only port SavvyCAN connects to, so setup grants the bind privilege for it).
import { boolOption, enumOption, formatListen, opt, parseListen, type ListenAddress } from '../../options/parsers.js';
import { definePlugin } from '../types.js';
import { GVRET_FD_MODES } from './codec.js';

export const gvretPlugin = definePlugin({
  name: 'gvret',
  options: {
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
      listener: { what: 'GVRET' },
    }),
    gvretFd: enumOption(GVRET_FD_MODES, {
      flag: 'gvret-fd',
      default: 'off',
      expected: 'off, esp32ret or wiretap',
      help: "CAN FD frames to GVRET clients: off (withheld), esp32ret (F1 14, the ESP32RET form) or wiretap (F1 00 with a DLC code, WireTAP's form); SavvyCAN never gets them (its parser loses sync)",
      group: 'network',
      scope: 'structural',
    }),
    gvretDiscovery: boolOption({
      flag: 'gvret-discovery',
      default: false,
      help: 'broadcast the GVRET discovery ping (UDP 17222, every second) by which SavvyCAN lists devices; needs --gvret-listen',
      group: 'network',
      scope: 'structural',
    }),
  },
  listen: 'gvretListen',
  load: async (values) => (await import('./index.js')).createGvretProtocol({ fd: values.gvretFd }),
  check: (values) =>
    values.gvretDiscovery && !values.gvretListen
      ? [
          {
            option: 'gvretDiscovery',
            problem: 'is on but --gvret-listen is off: the ping would announce a GVRET server that does not exist',
            fix: 'also set --gvret-listen, e.g. :2323 (SavvyCAN connects only to :23)',
          },
        ]
      : [],
  discovery: {
    name: 'gvret-discovery',
    option: 'gvretDiscovery',
    async create({ log }) {
      const { createGvretDiscovery } = await import('./discovery.js');
      return createGvretDiscovery({ log });
    },
  },
  setup: {
    ask: 'offer',
    question:
      'Serve GVRET for SavvyCAN and WireTAP on TCP port {port}? (SavvyCAN connects only to 23; the service is allowed to bind that port and nothing more)',
    address: ':23',
    privileged: 'GVRET: SavvyCAN connects only to 23',
    connectLine: (where) => `SavvyCAN and WireTAP connect with GVRET to ${where} (every bus: GVRET bus 0 is the first channel).`,
    doctorFix: '`journalctl -u ampio-bridge -e | grep -i gvret` for bind errors (port 23 taken by a telnet server?)',
  },
});
