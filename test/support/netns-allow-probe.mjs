// Runs INSIDE a private network namespace (see test/e2e/netns-access.test.ts): starts the
// built daemon with every registered protocol listening, connects to each listener from each
// source address the namespace's lo carries, and prints what happened as one JSON line.
// Traffic never leaves the namespace.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { PROTOCOLS } = await import(path.join(REPO, 'dist/src/protocols/registry.js'));
const { OPTIONS } = await import(path.join(REPO, 'dist/src/config/options.js'));
const sources = JSON.parse(process.argv[2]);

const protocolFlags = Object.values(PROTOCOLS).flatMap((e) => [`--${OPTIONS[e.listen].flag}`, ':0']);
const args = [
  path.join(REPO, 'dist/src/cli/main.js'),
  'serve',
  '--backend',
  'virtual',
  '--virtual-rate',
  '0',
  '--log-format',
  'json',
  '--control-socket',
  path.join(process.env.TMPDIR ?? '/tmp', `ampio-netns-${process.pid}.sock`),
  '--metrics-addr',
  '127.0.0.1:0',
  ...protocolFlags,
];
const daemon = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const listeners = [];
let metricsAddr = '';
const logs = [];
await new Promise((resolve, reject) => {
  let buf = '';
  const timer = setTimeout(() => reject(new Error('daemon not ready')), 15000);
  daemon.stderr.setEncoding('utf8');
  daemon.stderr.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue;
      }
      logs.push(r);
      if (r.event === 'tcp_listen') listeners.push({ protocol: r.protocol, port: Number(String(r.addr).split(':').pop()) });
      if (r.event === 'metrics_listen') metricsAddr = r.addr;
      if (r.event === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    }
  });
  daemon.once('exit', (code) => reject(new Error(`daemon exited ${code}`)));
});

function attempt(port, source) {
  return new Promise((resolve) => {
    const v6 = source.includes(':');
    const s = net.connect({ port, host: v6 ? '::1' : '127.0.0.1', localAddress: source });
    let bytes = 0;
    let closed = false;
    s.on('data', (d) => (bytes += d.length));
    s.on('error', () => {});
    s.on('close', () => (closed = true));
    setTimeout(() => {
      s.destroy();
      resolve({ admitted: !closed, bytes });
    }, 700);
  });
}

const results = [];
for (const l of listeners) {
  for (const source of sources) results.push({ protocol: l.protocol, source, ...(await attempt(l.port, source)) });
}
const metrics = await (await fetch(`http://${metricsAddr}/metrics`)).text();
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
const notAllowedLogs = logs.filter((r) => r.event === 'client_not_allowed').map((r) => ({ protocol: r.protocol, remote: r.remote }));
console.log(JSON.stringify({ listeners, results, metrics: metrics.split('\n').filter((l) => l.startsWith('hub_rejected_clients_total')), notAllowedLogs }));
