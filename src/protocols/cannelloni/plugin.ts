// cannelloni as the registry sees it: the bus port every install has (go-ampio-server's
// --listen, :20000; bus i at port + i), advertised over mDNS by the implementation; and, when
// given a server, the bridge dialling out to `cannelloni -C s` (the same hello both ways).
import { listenOption, optionalTargetOption } from '../../config/parsers.js';
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
    cannelloniConnect: optionalTargetOption({
      flag: 'cannelloni-connect',
      example: 'bench.example:20000',
      default: null,
      help: 'dial out to a cannelloni TCP server (`cannelloni -C s`) as its client, per bus (second bus: port + 1), reconnecting with backoff 1 s → 60 s; off or empty = off',
      group: 'network',
      scope: 'structural',
    }),
  },
  listen: 'listen',
  connect: 'cannelloniConnect',
  dialQuestion: 'Dial out to a cannelloni TCP server (`cannelloni -C s` elsewhere, reached without port forwarding)? host:port, empty = no',
  load: async () => (await import('./index.js')).default,
  setup: {
    ask: 'address',
    question: 'TCP address for cannelloni clients (a second bus uses port + 1)',
    address: ':20000',
    connectLine: (where) => `Clients connect with cannelloni TCP to ${where}.`,
    doctorFix: 'see the service line above; `journalctl -u ampio-bridge -e` for bind errors (port in use?)',
  },
});
