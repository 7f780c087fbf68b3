// cannelloni as the registry sees it: the bus port every install has (go-ampio-server's
// --listen, :20000; bus i at port + i), advertised over mDNS by the implementation.
import { listenOption } from '../../config/parsers.js';
import { definePlugin } from '../types.js';

export const cannelloniPlugin = definePlugin({
  name: 'cannelloni',
  options: {
    listen: listenOption({
      flag: 'listen',
      example: '127.0.0.1:20000',
      default: { host: '', port: 20000 },
      help: 'TCP address for cannelloni clients (second bus: port + 1); a bare port is refused: say 127.0.0.1:PORT (this machine) or :PORT (all interfaces)',
      group: 'network',
      scope: 'structural',
      listener: { what: 'cannelloni', perBus: true },
    }),
  },
  listen: 'listen',
  load: async () => (await import('./index.js')).default,
  setup: {
    ask: 'address',
    question: 'TCP address for cannelloni clients (a second bus uses port + 1)',
    address: ':20000',
    connectLine: (where) => `Clients connect with cannelloni TCP to ${where}.`,
    doctorFix: 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (port in use?)',
  },
});
