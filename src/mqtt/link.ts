// The I/O edge toward the broker: one MQTT.js client with the bridge's own reconnect policy
// (capped exponential backoff, one log line per state change instead of one per attempt), a
// retained last will on the availability topic, and a write bound so a slow broker shows up
// as "not writable" here instead of as memory growing inside the socket.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Backoff } from '../core/backoff.js';
import type { LogFn } from '../core/log-fn.js';
import { redactMqttUrl } from './options.js';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface LinkOptions {
  url: string;
  /** PEM file paths ('' = none): the broker's CA, the client certificate and its key. */
  ca: string;
  cert: string;
  key: string;
  clientId: string;
  /** Retained `online`/`offline` topic; the broker publishes `offline` when the bridge vanishes. */
  availabilityTopic: string;
  log: LogFn;
  /** Called on every (re)connection, after the availability topic says online. */
  onConnected(): void;
  /** Called when the socket has room again after publish() said it had none. */
  onWritable(): void;
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  /** Reconnect backoff (ms): first delay and ceiling. */
  backoff?: { initial: number; max: number };
  /** Bytes the socket may hold unsent before publish() refuses (default 256 KiB). */
  highWaterBytes?: number;
  /** Handshake timeout, ms (default 10 s). */
  connectTimeoutMs?: number;
}

/** Reads the TLS files; a missing or unreadable one is an error that names it and says what to do. */
export function tlsFiles(o: Pick<LinkOptions, 'ca' | 'cert' | 'key'>): Pick<IClientOptions, 'ca' | 'cert' | 'key'> {
  const read = (path: string, flag: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw Object.assign(new Error(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`), {
        hint: `check the path and that the service user may read it, or clear ${flag}`,
      });
    }
  };
  if ((o.cert === '') !== (o.key === '')) {
    throw Object.assign(new Error('--mqtt-cert and --mqtt-key go together'), { hint: 'give both (client certificate and its key) or neither' });
  }
  return {
    ...(o.ca ? { ca: read(o.ca, '--mqtt-ca') } : {}),
    ...(o.cert ? { cert: read(o.cert, '--mqtt-cert'), key: read(o.key, '--mqtt-key') } : {}),
  };
}

/** Shared, never mutated (MQTT.js copies them): no object per message. */
const RETAINED = Object.freeze({ qos: 0 as const, retain: true });
const TRANSIENT = Object.freeze({ qos: 0 as const, retain: false });

export class MqttLink {
  state: LinkState = 'connecting';
  /** Successful connections (the first one included). */
  connects = 0;
  /** Lost or failed connections. */
  disconnects = 0;
  /** The last connection error, for status and doctor. */
  lastError: string | null = null;
  /** Wall-clock ms of the last state change. */
  since = Date.now();
  private client: MqttClient | null = null;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly highWater: number;
  private waitingForDrain = false;
  /** The remote address of the current connection (--tx-allow is checked against it). */
  remoteAddress: string | null = null;

  constructor(private readonly o: LinkOptions) {
    this.backoff = new Backoff(o.backoff ?? { initial: 1000, max: 60_000 });
    this.highWater = o.highWaterBytes ?? 256 * 1024;
  }

  /** Starts connecting; never throws for an unreachable broker (it keeps retrying), only for bad TLS files. */
  start(): void {
    const url = new URL(this.o.url);
    const client = mqtt.connect(this.o.url, {
      ...tlsFiles(this.o),
      clientId: this.o.clientId,
      // A command the broker held for us while we were away would arrive late: take none.
      clean: true,
      // The bridge schedules its own reconnects (backoff, one log line per state change).
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      keepalive: 30,
      queueQoSZero: false,
      rejectUnauthorized: true,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      will: { topic: this.o.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => this.connected());
    client.on('close', () => this.lost());
    client.on('error', (err) => {
      this.lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => this.o.onMessage(topic, payload, packet.retain === true));
  }

  private connected(): void {
    const client = this.client;
    if (!client) return;
    this.backoff.reset();
    this.connects++;
    this.lastError = null;
    this.waitingForDrain = false;
    const stream = (client as unknown as { stream?: NodeJS.WritableStream & { remoteAddress?: string; on(e: 'drain', f: () => void): void } }).stream;
    this.remoteAddress = stream?.remoteAddress ?? null;
    stream?.on('drain', () => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      this.o.onWritable();
    });
    this.setState('connected', { broker: redactMqttUrl(this.o.url), reconnects: this.connects - 1 });
    client.publish(this.o.availabilityTopic, 'online', { qos: 1, retain: true });
    this.o.onConnected();
  }

  private lost(): void {
    if (this.state === 'stopped') return;
    if (this.state === 'connected') this.disconnects++;
    const delay = this.backoff.next();
    this.setState('disconnected', { broker: redactMqttUrl(this.o.url), error: this.lastError ?? 'connection closed', retry_ms: delay }, 'warn');
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.state !== 'stopped') this.client?.reconnect();
    }, delay);
    this.retryTimer.unref();
  }

  private setState(next: LinkState, fields: Record<string, unknown>, level: 'info' | 'warn' = 'info'): void {
    if (next === this.state) return;
    const from = this.state;
    this.state = next;
    this.since = Date.now();
    if (next === 'connected') this.o.log('info', 'mqtt_connected', fields);
    // The first failure out of `connecting` is worth a line as much as a lost connection.
    else if (next === 'disconnected') this.o.log(level, from === 'connected' ? 'mqtt_disconnected' : 'mqtt_connect_failed', fields);
  }

  /** True while connected and the socket holds less than the bound. */
  writable(): boolean {
    if (this.state !== 'connected' || !this.client) return false;
    const stream = (this.client as unknown as { stream?: { writableLength?: number } }).stream;
    if ((stream?.writableLength ?? 0) < this.highWater) return true;
    this.waitingForDrain = true;
    return false;
  }

  /** Subscribes on the current connection (a clean session: call again after every reconnection). */
  subscribe(filters: string[]): void {
    if (this.state === 'connected' && filters.length > 0) this.client?.subscribe(filters, { qos: 0 });
  }

  unsubscribe(filters: string[]): void {
    if (this.state === 'connected' && filters.length > 0) this.client?.unsubscribe(filters);
  }

  /** Publishes when writable; false = not sent (the caller keeps or drops it, and counts). */
  publish(topic: string, payload: string | Buffer, retain: boolean): boolean {
    if (!this.writable()) return false;
    this.client!.publish(topic, payload, retain ? RETAINED : TRANSIENT);
    return true;
  }

  /** Says offline (retained) when it can, then closes; bounded by `timeoutMs`. */
  async stop(timeoutMs = 1000): Promise<void> {
    const client = this.client;
    const wasConnected = this.state === 'connected';
    this.state = 'stopped';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true);
        resolve();
      }, timeoutMs);
      timer.unref();
      const end = () =>
        client.end(false, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      // A clean disconnect suppresses the will: say offline ourselves first.
      if (wasConnected) client.publish(this.o.availabilityTopic, 'offline', { qos: 1, retain: true }, end);
      else {
        client.end(true);
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
