// One connection attempt to the broker, for `setup` (before it writes the URL) and `doctor`:
// connect, disconnect, report what went wrong in words that say what to do.
import mqtt from 'mqtt';
import { tlsFiles } from './link.js';
import { redactMqttUrl } from './options.js';

export interface ProbeTarget {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/** null = the broker accepted us; else the reason, with a hint. */
export async function probeBroker(t: ProbeTarget, timeoutMs = 5000): Promise<string | null> {
  let tls: ReturnType<typeof tlsFiles>;
  try {
    tls = tlsFiles({ ca: t.ca ?? '', cert: t.cert ?? '', key: t.key ?? '' });
  } catch (err) {
    return `${(err as Error).message}${(err as { hint?: string }).hint ? `; ${(err as { hint?: string }).hint}` : ''}`;
  }
  const url = new URL(t.url);
  return new Promise((resolve) => {
    const client = mqtt.connect(t.url, {
      ...tls,
      clientId: `ampio-bridge-probe-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      clean: true,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    });
    let lastError: string | null = null;
    const done = (result: string | null) => {
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      resolve(result);
    };
    client.once('connect', () => done(null));
    client.on('error', (err) => {
      lastError = err.message;
    });
    client.once('close', () => done(explain(redactMqttUrl(t.url), lastError ?? 'the connection closed')));
  });
}

function explain(broker: string, error: string): string {
  if (/not authori[sz]ed|bad user ?name or password/i.test(error)) return `${broker}: ${error}: check the user and password in the URL`;
  if (/ECONNREFUSED/.test(error)) return `${broker}: ${error}: nothing listens there; check the host and port (1883 plain, 8883 TLS) and that the broker runs`;
  if (/certificate|self[- ]signed|CERT_/i.test(error)) return `${broker}: ${error}: give the broker's CA with --mqtt-ca (PEM)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(error)) return `${broker}: ${error}: the host name does not resolve`;
  return `${broker}: ${error}`;
}
