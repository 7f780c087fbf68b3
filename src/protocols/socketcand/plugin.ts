// socketcand as the registry sees it: one port for every bus (the client opens a bus by name),
// its UDP beacon for SavvyCAN and python-can >= 4.4, and setup's offer of the conventional port.
import { boolOption, optionalListenOption } from '../../options/parsers.js';
import { definePlugin } from '../types.js';

export const socketcandPlugin = definePlugin({
  name: 'socketcand',
  options: {
    socketcandListen: optionalListenOption({
      flag: 'socketcand-listen',
      example: ':29536',
      default: null,
      help: 'TCP address for socketcand clients (python-can, SavvyCAN, Kayak; conventional port 29536); one port serves every bus, picked by `< open can0 >`; off or empty = off',
      group: 'network',
      scope: 'structural',
      listener: { what: 'socketcand' },
    }),
    socketcandBeacon: boolOption({
      flag: 'socketcand-beacon',
      default: false,
      help: 'broadcast the socketcand discovery beacon (UDP 42000, every 3 s) on each local IPv4 subnet, for SavvyCAN and python-can >= 4.4',
      group: 'observability',
      scope: 'structural',
    }),
  },
  listen: 'socketcandListen',
  load: async () => (await import('./index.js')).default,
  discovery: {
    name: 'socketcand-beacon',
    option: 'socketcandBeacon',
    async create({ listeners, buses, hostname, log }) {
      const listener = listeners[0];
      if (!listener) {
        log('warn', 'socketcand_beacon_off', { hint: '--socketcand-beacon needs --socketcand-listen: there is nothing to announce' });
        return null;
      }
      const { SocketcandBeacon } = await import('./beacon.js');
      return new SocketcandBeacon({ port: listener.port, listenHost: listener.host, buses, hostname, log });
    },
  },
  setup: {
    ask: 'offer',
    question: 'Also serve socketcand clients (python-can, SavvyCAN, Kayak) on TCP port {port}?',
    address: ':29536',
    // An install without the key predates socketcand: offer it (the conventional port).
    offeredOn: true,
    keepOff: true,
    // The beacon broadcasts to the whole LAN (the README's "off by default"): asked, default no.
    discoveryQuestion:
      'Announce socketcand on the local network by broadcast (UDP 42000 every 3 s, to every machine on the LAN; SavvyCAN and python-can >= 4.4 list the bridge by it)?',
    connectLine: (where) => `socketcand clients (python-can, SavvyCAN, Kayak) connect to ${where} and open a bus by its name.`,
    doctorFix: 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (port 29536 in use by a real socketcand?)',
  },
});
