// tcpcan as the registry sees it: off unless given an address; one port per bus. setup does
// not offer it (its clients are few and set up by hand).
import { optionalListenOption, optionalTargetOption } from '../../config/parsers.js';
import { definePlugin } from '../types.js';

export const tcpcanPlugin = definePlugin({
  name: 'tcpcan',
  options: {
    tcpcanListen: optionalListenOption({
      flag: 'tcpcan-listen',
      example: ':20010',
      default: null,
      help: 'TCP address for tcpcan clients (conventional port 20010; second bus: port + 1); off or empty = off',
      group: 'network',
      scope: 'structural',
      listener: { what: 'tcpcan', perBus: true },
    }),
    tcpcanConnect: optionalTargetOption({
      flag: 'tcpcan-connect',
      example: 'bench.example:20010',
      default: null,
      help: 'dial out to a tcpcan server (`tcpcan --serve`) as its client, per bus (second bus: port + 1), reconnecting with backoff 1 s → 60 s; off or empty = off',
      group: 'network',
      scope: 'structural',
    }),
  },
  listen: 'tcpcanListen',
  connect: 'tcpcanConnect',
  dialQuestion: 'Dial out to a tcpcan server (`tcpcan --serve` elsewhere)? host:port, empty = no',
  load: async () => (await import('./index.js')).default,
});
