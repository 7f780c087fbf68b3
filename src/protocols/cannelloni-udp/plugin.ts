// cannelloni over UDP as the registry sees it: off unless given a local address; one UDP port
// per bus (port + i, as the TCP listener); the remote peers it sends to, configured or learned
// from the first datagram of an address --allow admits. setup offers it (off unless asked).
import { optionalListenOption, targetListOption } from '../../options/parsers.js';
import { definePlugin } from '../types.js';

export const cannelloniUdpPlugin = definePlugin({
  name: 'cannelloni-udp',
  options: {
    cannelloniUdp: optionalListenOption({
      flag: 'cannelloni-udp',
      example: ':20000',
      default: null,
      help: 'UDP address for cannelloni peers in UDP mode (`cannelloni -I can0 -R <this host> -r PORT -l PORT`; second bus: port + 1); datagrams of up to 1452 bytes sent every --flush-interval (cannelloni -t); off or empty = off',
      group: 'network',
      scope: 'structural',
      listener: { what: 'cannelloni', perBus: true, transport: 'udp' },
    }),
    cannelloniUdpPeer: targetListOption({
      flag: 'cannelloni-udp-peer',
      example: '192.168.1.20:20000',
      default: [],
      defaultText: 'none: peers are learned from their first datagram (only addresses --allow admits)',
      help: 'cannelloni UDP peers the bridge sends to from the start (second bus: port + 1); others are learned when they send, if --allow admits them',
      group: 'network',
      scope: 'structural',
    }),
  },
  listen: 'cannelloniUdp',
  peers: 'cannelloniUdpPeer',
  load: async () => (await import('./index.js')).default,
  check: (v) =>
    v.cannelloniUdpPeer.length > 0 && v.cannelloniUdp === null
      ? [
          {
            option: 'cannelloniUdpPeer',
            problem: '--cannelloni-udp-peer is set but --cannelloni-udp is off',
            fix: 'give the local UDP address too, e.g. --cannelloni-udp :20000',
          },
        ]
      : [],
  setup: {
    ask: 'offer',
    question: 'Also serve cannelloni over UDP, its default mode (peers are learned from their first datagram), on UDP port {port}?',
    address: ':20000',
    offeredOn: false,
    connectLine: (where) => `cannelloni in UDP mode connects with: cannelloni -I vcan0 -R <this host> -r <port> -l <its port>, to UDP ${where}.`,
    doctorFix: 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (UDP port in use?)',
  },
});
