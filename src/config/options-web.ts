// The web page's options (the one HTTP server of the daemon and its write credential);
// composed into the options table. Pure data and parsers: provisioning imports the table.
import { OptionValueError, opt, optionalListenOption } from '../options/parsers.js';

// The stored form of the write token is the guard's (guard/web-token.ts checks it).
import { TOKEN_HASH_RE } from '../guard/web-token.js';

export const WEB_OPTIONS = {
  httpListen: optionalListenOption({
    flag: 'http-listen',
    example: ':8080',
    default: null,
    defaultText: 'off (the --metrics-addr address when that is set)',
    help: 'HTTP address of the web page (overview, live frames, the house, capture history), its JSON API under /api/, and /metrics, /ready, /healthz; --allow applies as on the bus ports; off or empty = off. --metrics-addr is its older name: an old config with only --metrics-addr gets the same server there',
    group: 'observability',
    scope: 'structural',
    listener: { what: 'web page' },
  }),
  httpTokenHash: opt<string>({
    flag: 'http-token-hash',
    kind: 'string',
    default: '',
    defaultText: 'none: the web page is read-only',
    expected: 'the scrypt:… hash `ampio-bridge setup` writes (never the token itself)',
    help: 'hash of the token the web page and API need for writes (send a frame, kick a client, reload); without it no write endpoint exists. `ampio-bridge setup --http-token new` makes a token and stores its hash',
    group: 'observability',
    scope: 'reloadable',
    parse(raw) {
      const t = raw.trim();
      if (t === '') return '';
      if (!TOKEN_HASH_RE.test(t))
        throw new OptionValueError(
          'is not a token hash (scrypt:<32 hex>:<64 hex>); run `ampio-bridge setup --http-token new` to make a token and store its hash',
        );
      return t;
    },
    emptyIsValue: true,
  }),
} as const;
