// A real MQTT broker for tests: Debian's mosquitto on 127.0.0.1 (free ports), with a
// password file, and optionally a TLS listener whose certificates the test generates with
// openssl (a CA, a server certificate for 127.0.0.1, and a client certificate). Plus
// mosquitto_sub/mosquitto_pub wrappers. A missing tool is a failure that names the package.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/** Fails (never skips) when a tool is missing, naming the Debian package. */
export function requireMosquittoTools(): void {
  const missing = [
    [MOSQUITTO, 'mosquitto'],
    ['/usr/bin/mosquitto_sub', 'mosquitto-clients'],
    ['/usr/bin/mosquitto_pub', 'mosquitto-clients'],
    ['/usr/bin/mosquitto_passwd', 'mosquitto'],
    ['/usr/bin/openssl', 'openssl'],
  ].filter(([p]) => !existsSync(p));
  if (missing.length > 0)
    throw new Error(`missing ${missing.map(([p, pkg]) => `${p} (Debian package ${pkg})`).join(', ')}: apt-get install mosquitto mosquitto-clients openssl`);
}

export interface BrokerOptions {
  /** Also a TLS listener (certificates generated here). */
  tls?: boolean;
  /** The TLS listener requires a client certificate signed by the test CA. */
  requireClientCert?: boolean;
}

export interface Broker {
  host: '127.0.0.1';
  port: number;
  tlsPort: number | null;
  user: string;
  password: string;
  dir: string;
  /** PEM paths (tls only). */
  caFile: string;
  clientCert: string;
  clientKey: string;
  url(tls?: boolean): string;
  /** Stops the broker process (SIGTERM), keeping its files for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ampio-bridge test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  await ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=ampio-bridge client', '-keyout', 'client.key', '-out', 'client.csr');
  await ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.crt');
}

export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  requireMosquittoTools();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ampio-mqtt-'));
  const user = 'bridge';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  await run('/usr/bin/mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), user, password]);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : null;
  if (opts.tls) await makeCertificates(dir);
  const conf = [
    // Started as root, mosquitto would switch to the `mosquitto` user, who cannot read this
    // test's private directory: stay the user the test runs as.
    `user ${os.userInfo().username}`,
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${path.join(dir, 'passwd')}`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    `listener ${port} 127.0.0.1`,
    ...(tlsPort
      ? [
          `listener ${tlsPort} 127.0.0.1`,
          `cafile ${path.join(dir, 'ca.crt')}`,
          `certfile ${path.join(dir, 'server.crt')}`,
          `keyfile ${path.join(dir, 'server.key')}`,
          ...(opts.requireClientCert ? ['require_certificate true'] : []),
        ]
      : []),
  ];
  writeFileSync(path.join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
  let child: ChildProcess | null = null;
  let stderr = '';
  const start = async (): Promise<void> => {
    child = spawn(MOSQUITTO, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${stderr}`))));
    await Promise.race([waitForPort(port, 10_000), exited]);
    exited.catch(() => {});
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await gone;
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    user,
    password,
    dir,
    caFile: path.join(dir, 'ca.crt'),
    clientCert: path.join(dir, 'client.crt'),
    clientKey: path.join(dir, 'client.key'),
    url: (tls = false) => `${tls ? 'mqtts' : 'mqtt'}://${user}:${password}@127.0.0.1:${tls ? tlsPort : port}`,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retained messages under `filter` as topic → payload (mosquitto_sub --retained-only). */
export async function retainedMessages(b: Broker, filter: string, waitSec = 2): Promise<Map<string, string>> {
  const { stdout } = await run(
    '/usr/bin/mosquitto_sub',
    ['-h', b.host, '-p', String(b.port), '-u', b.user, '-P', b.password, '-t', filter, '--retained-only', '-W', String(waitSec), '-F', '%t\t%p'],
    { maxBuffer: 64 << 20 },
  ).catch(
    // -W ends mosquitto_sub with status 27 when the wait runs out: what it printed still counts.
    (err: { stdout?: string; code?: number }) => {
      if (err.code === 27 && typeof err.stdout === 'string') return { stdout: err.stdout };
      throw err;
    },
  );
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}

/** A running mosquitto_sub printing `topic\tpayload` lines (payload hex with `hex`). */
export function subscribe(b: Broker, filter: string, opts: { hex?: boolean } = {}): { lines: string[]; stop(): void } {
  const child = spawn(
    '/usr/bin/mosquitto_sub',
    ['-h', b.host, '-p', String(b.port), '-u', b.user, '-P', b.password, '-t', filter, '-F', opts.hex ? '%t\t%x' : '%t\t%p'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const lines: string[] = [];
  let rest = '';
  child.stdout.on('data', (d) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { lines, stop: () => child.kill('SIGTERM') };
}

export async function publish(b: Broker, topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<void> {
  await run('/usr/bin/mosquitto_pub', [
    '-h',
    b.host,
    '-p',
    String(b.port),
    '-u',
    b.user,
    '-P',
    b.password,
    '-t',
    topic,
    '-m',
    payload,
    ...(opts.retain ? ['-r'] : []),
  ]);
}
