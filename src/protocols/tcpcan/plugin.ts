// tcpcan as the registry sees it: off unless given an address; one port per bus. setup does
// not offer it (its clients are few and set up by hand).
import { optionalListenOption } from '../../config/parsers.js';
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
  },
  listen: 'tcpcanListen',
  load: async () => (await import('./index.js')).default,
});
