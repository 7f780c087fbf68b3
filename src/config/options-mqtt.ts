// The MQTT options (broker, topics, TLS files, raw frames); composed into the options table.
// Off unless --mqtt-url is given: the bridge never connects to a broker nobody named (and
// never to a public one by default). Pure: no I/O (provisioning imports the table).
import { boolOption, intOption, opt, OptionValueError } from '../options/parsers.js';

/** The broker URL as the user wrote it, checked: mqtt:// or mqtts://, a host, no path. */
export function parseMqttUrl(raw: string): string {
  const t = raw.trim();
  if (t === '' || t === 'off') return '';
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new OptionValueError(`"${raw}" is not a URL (like mqtt://127.0.0.1:1883 or mqtts://user:pass@broker:8883)`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new OptionValueError(`must start with mqtt:// or mqtts:// (not ${url.protocol}//)`);
  if (url.hostname === '') throw new OptionValueError('names no broker host (like mqtt://192.168.1.10:1883)');
  if (url.pathname !== '' && url.pathname !== '/')
    throw new OptionValueError(`has a path (${url.pathname}); an MQTT URL is only mqtt[s]://[user:pass@]host[:port]`);
  return t;
}

/** The URL with its password replaced: the only form that is ever logged or shown. */
export function redactMqttUrl(raw: string): string {
  if (raw === '') return '';
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/** An MQTT topic prefix: levels of letters, digits, - _ . separated by /, no wildcards. */
export function parseTopicPrefix(raw: string): string {
  const t = raw.trim().replace(/^\/+|\/+$/g, '');
  if (t === '') return '';
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(t)) {
    throw new OptionValueError(`"${raw}" is not a topic prefix (levels of letters, digits, - _ . separated by /; no + # or spaces)`);
  }
  return t;
}

function absolutePath(raw: string): string {
  const t = raw.trim();
  if (t !== '' && !t.startsWith('/') && !t.startsWith('.')) throw new OptionValueError(`"${raw}" is not a file path (start it with / or ./)`);
  return t;
}

export const MQTT_OPTIONS = {
  mqttUrl: opt<string>({
    flag: 'mqtt-url',
    kind: 'string',
    default: '',
    defaultText: 'off',
    expected: 'mqtt://[user:pass@]host[:1883] or mqtts://…[:8883], empty = off',
    help: 'publish the decoded house (retained state topics, Home Assistant discovery, command topics) to this MQTT broker; off unless set (the password may sit in the URL; it is never logged)',
    group: 'observability',
    scope: 'structural',
    parse: parseMqttUrl,
    emptyIsValue: true,
  }),
  mqttPrefix: opt<string>({
    flag: 'mqtt-prefix',
    kind: 'string',
    default: '',
    defaultText: 'ampio/<hostname>',
    expected: 'topic levels like ampio/home (letters, digits, - _ .)',
    help: 'MQTT: every topic of this bridge starts with this (state, availability, commands); the default names the site by the host name',
    group: 'observability',
    scope: 'structural',
    parse: parseTopicPrefix,
  }),
  mqttDiscoveryPrefix: opt<string>({
    flag: 'mqtt-discovery-prefix',
    kind: 'string',
    default: 'homeassistant',
    expected: 'a topic prefix like homeassistant, off = no discovery',
    help: "MQTT: Home Assistant discovery configs go under this prefix (Home Assistant's default is homeassistant); off = publish no discovery",
    group: 'observability',
    scope: 'structural',
    parse: (raw) => (raw.trim() === 'off' ? '' : parseTopicPrefix(raw)),
    format: (v) => (v === '' ? 'off' : v),
  }),
  mqttCa: opt<string>({
    flag: 'mqtt-ca',
    kind: 'path',
    default: '',
    defaultText: 'the system CAs',
    expected: 'a PEM file path',
    help: "MQTT over mqtts://: trust the broker's certificate when signed by this CA (PEM) instead of the system's",
    group: 'observability',
    scope: 'structural',
    parse: absolutePath,
  }),
  mqttCert: opt<string>({
    flag: 'mqtt-cert',
    kind: 'path',
    default: '',
    defaultText: 'none',
    expected: 'a PEM file path',
    help: 'MQTT over mqtts://: client certificate (PEM) for brokers that require one; needs --mqtt-key',
    group: 'observability',
    scope: 'structural',
    parse: absolutePath,
  }),
  mqttKey: opt<string>({
    flag: 'mqtt-key',
    kind: 'path',
    default: '',
    defaultText: 'none',
    expected: 'a PEM file path',
    help: 'MQTT over mqtts://: private key (PEM) of --mqtt-cert',
    group: 'observability',
    scope: 'structural',
    parse: absolutePath,
  }),
  mqttRaw: boolOption({
    flag: 'mqtt-raw',
    default: false,
    help: "MQTT: also publish every bus frame (not retained) in SavvyCAN's MQTT format: topic <prefix with / as ->-<bus>/<decimal CAN id>, payload 8-byte little-endian µs timestamp, a flags byte (1 = extended), the data; bounded by --mqtt-raw-rate",
    group: 'observability',
    scope: 'structural',
  }),
  mqttRawRate: intOption(1, 100_000, {
    flag: 'mqtt-raw-rate',
    unit: 'frames per second',
    default: 1000,
    help: 'MQTT: most raw frames published per second, all buses together (burst: one second); frames over it are dropped and counted',
    group: 'observability',
    scope: 'structural',
  }),
} as const;
