// The Waveshare 2-CH-CAN-TO-ETH format as the registry sees it: one port per bus (the device
// serves CAN1 at 20001 and CAN2 at 20002), off unless given an address, and setup's offer.
//
// The port setup offers: 20001. It is the device's CAN1 port and the default of Home
// Assistant's Ampio integration (its config flow asks for host and port, 20001 filled in), so
// an install with one bus is a drop-in for the box: point Home Assistant at the Pi and change
// nothing else. With two buses cannelloni's bus 1 already holds 20001 (--listen 20000 + 1):
// setup then moves both Waveshare ports up to the first free pair (20002/20003 on a fresh
// install) and prints the port to type into Home Assistant.
import { optionalListenOption } from '../../config/parsers.js';
import { definePlugin } from '../types.js';

export const wavesharePlugin = definePlugin({
  name: 'waveshare',
  options: {
    waveshareListen: optionalListenOption({
      flag: 'waveshare-listen',
      example: ':20001',
      default: null,
      help: "TCP address for Waveshare 2-CH-CAN-TO-ETH clients (Home Assistant's Ampio integration, python-can's waveshare interface): 13-byte records, classic CAN; second bus: port + 1, as the device does; off or empty = off",
      group: 'network',
      scope: 'structural',
      listener: { what: 'Waveshare', perBus: true },
    }),
  },
  listen: 'waveshareListen',
  load: async () => (await import('./index.js')).default,
  setup: {
    ask: 'offer',
    question: "Serve Home Assistant's Ampio integration (the Waveshare 2-CH-CAN-TO-ETH format) on TCP port {port}?",
    address: ':20001',
    connectLine: (where) => `Home Assistant (Settings → Devices & services → Add integration → Ampio) connects with host and port ${where}.`,
    doctorFix: 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (port in use?)',
  },
});
