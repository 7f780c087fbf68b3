// The churn soak of issue 22: connect/close cycles against the built bridge as its own
// process, for each protocol, with and without the negotiation, closed with FIN and with
// RST; then the bridge's heap (after a full GC) and RSS against where they started, and
// whether it survived under a small heap. Not part of `npm test` (minutes of CPU); the
// conformance suite runs a bounded version of the same loop (test/support/churn.ts).
//
//   npm run build && node dist/test/bench/churn.js [--cycles 100000] [--heap-mb 64]
//        [--only cannelloni,tcpcan,socketcand,gvret,waveshare] [--concurrency 32] [--settle 60] [--json]
//        [--cli OTHER/dist/src/cli/main.js]
//
// --cycles is per protocol, split evenly over the four variants (hello × close kind).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BridgeChild } from '../support/bridge-child.js';
import { churn, type CloseKind, MB, measurableNodeArgs, mb, readMemory } from '../support/churn.js';

interface ProtocolSpec {
  name: string;
  flags: string[];
  hello: Buffer;
}

const PROTOCOLS: ProtocolSpec[] = [
  { name: 'cannelloni', flags: [], hello: Buffer.from('CANNELLONIv1') },
  // tcpcan `v 1`: type, length 4, version (big-endian u32).
  { name: 'tcpcan', flags: ['--tcpcan-listen', '127.0.0.1:0'], hello: Buffer.from([0x76, 4, 0, 0, 0, 1]) },
  { name: 'socketcand', flags: ['--socketcand-listen', '127.0.0.1:0'], hello: Buffer.from('< open vbus0 >< rawmode >') },
  // GVRET: binary mode twice and the device-info query, as WireTAP connects.
  { name: 'gvret', flags: ['--gvret-listen', '127.0.0.1:0'], hello: Buffer.from([0xe7, 0xe7, 0xf1, 0x07]) },
  // No negotiation: "with a hello" sends one record (id 0x123, 1 byte) instead.
  { name: 'waveshare', flags: ['--waveshare-listen', '127.0.0.1:0'], hello: Buffer.from([0x01, 0, 0, 0x01, 0x23, 0x42, 0, 0, 0, 0, 0, 0, 0]) },
];

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100000' },
    'heap-mb': { type: 'string', default: '64' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
    /** Another build's dist/src/cli/main.js, to measure it instead (its heap shows only if its snapshot has `memory`). */
    cli: { type: 'string' },
    /**
     * Longest quiet after the churn, s: the memory is read every 5 s until heap and RSS are
     * within 10 MB of where they started (V8 gives back the young generation it grew under
     * load after about 10 s idle), or this much time has passed.
     */
    settle: { type: 'string', default: '60' },
  },
});
const cycles = Number(values.cycles);
const heapMb = Number(values['heap-mb']);
const only = values.only?.split(',');
const say = (line: string): void => void process.stderr.write(`${line}\n`);

interface Row {
  protocol: string;
  cycles: number;
  seconds: number;
  lingered: number;
  failed: number;
  heapBefore: number;
  heapAfter: number;
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  fdsBefore: number;
  fdsAfter: number;
  clientsAfter: number;
  pendingAfter: number;
  resetBeforeAccept: number;
  /** Seconds of quiet after the churn until the reading below was taken. */
  settledAfter: number;
  survived: boolean;
}

const rows: Row[] = [];
for (const p of PROTOCOLS.filter((x) => !only || only.includes(x.name))) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ampio-churn-'));
  // An empty config file: a config in this user's config dir must not change the run.
  writeFileSync(path.join(dir, 'none.json'), '{}\n');
  const b = await BridgeChild.start({
    nodeArgs: measurableNodeArgs(heapMb),
    cli: values.cli,
    args: ['--backend', 'virtual', '--virtual-rate', '0', '--can-if', 'vbus0', '--listen', '127.0.0.1:0', ...p.flags, '--config', path.join(dir, 'none.json')],
  });
  try {
    await sleep(2000); // let start-up garbage settle
    const before = await readMemory(b);
    const port = b.port(p.name);
    let peak = before.rss;
    const sampler = setInterval(() => {
      if (b.alive) peak = Math.max(peak, b.rssBytes());
    }, 250);
    const started = performance.now();
    let lingered = 0;
    let failed = 0;
    const variants: Array<[boolean, CloseKind]> = [
      [true, 'fin'],
      [false, 'fin'],
      [true, 'rst'],
      [false, 'rst'],
    ];
    for (const [hello, close] of variants) {
      const r = await churn({
        port,
        hello: hello ? p.hello : null,
        close,
        cycles: Math.ceil(cycles / variants.length),
        concurrency: Number(values.concurrency),
      });
      lingered += r.lingered;
      failed += r.failed;
      say(
        `${p.name}: ${r.cycles} × ${hello ? 'hello' : 'no hello'} + ${close}: ${(r.ms / 1000).toFixed(1)} s, ${r.lingered} lingered, ${r.failed} failed, rss ${b.alive ? mb(b.rssBytes()) : 'DEAD'}`,
      );
      if (!b.alive) break;
    }
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const survived = b.alive;
    let after = { rss: Number.NaN, heap: Number.NaN, fds: Number.NaN };
    let clientsAfter = Number.NaN;
    let pendingAfter = Number.NaN;
    let resets = 0;
    let settledAfter = Number.NaN;
    if (survived) {
      // Closed sessions must be gone at once; RSS follows once V8's memory reducer has run.
      after = await readMemory(b);
      const quietSince = performance.now();
      while (performance.now() - quietSince < Number(values.settle) * 1000 && (after.rss - before.rss > 10 * MB || after.heap - before.heap > 10 * MB)) {
        await sleep(5000);
        after = await readMemory(b);
      }
      settledAfter = (performance.now() - quietSince) / 1000;
      const snap = await b.snapshot();
      clientsAfter = snap.clients.length;
      pendingAfter = snap.daemon.descriptors?.pending ?? Number.NaN;
      resets = snap.totals.resetBeforeAccept ?? 0;
    } else {
      say(`${p.name}: the bridge died:\n${b.tail.slice(-1500)}`);
    }
    rows.push({
      protocol: p.name,
      cycles,
      seconds,
      lingered,
      failed,
      heapBefore: before.heap,
      heapAfter: after.heap,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssPeak: peak,
      fdsBefore: before.fds,
      fdsAfter: after.fds,
      clientsAfter,
      pendingAfter,
      resetBeforeAccept: resets,
      settledAfter,
      survived,
    });
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ heapMb, rows }, null, 2)}\n`);
} else {
  const head = [
    'protocol',
    'cycles',
    's',
    'heap before',
    'heap after',
    'RSS before',
    'RSS after',
    'after quiet',
    'RSS peak',
    'fds',
    'clients',
    'lingered',
    'reset before accept',
    'survived',
  ];
  const lines = rows.map((r) => [
    r.protocol,
    String(r.cycles),
    r.seconds.toFixed(0),
    mb(r.heapBefore),
    mb(r.heapAfter),
    mb(r.rssBefore),
    mb(r.rssAfter),
    `${r.settledAfter.toFixed(0)} s`,
    mb(r.rssPeak),
    `${r.fdsBefore}→${r.fdsAfter}`,
    String(r.clientsAfter),
    String(r.lingered),
    String(r.resetBeforeAccept),
    r.survived ? `yes (--max-old-space-size=${heapMb})` : 'NO',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...lines.map((l) => l[k].length)));
  for (const l of [head, ...lines]) process.stdout.write(`${l.map((c, k) => c.padEnd(widths[k])).join('  ')}\n`);
}
const bad = rows.filter(
  (r) => !r.survived || r.lingered > 0 || r.clientsAfter !== 0 || Math.abs(r.heapAfter - r.heapBefore) > 10 * MB || r.rssAfter - r.rssBefore > 10 * MB,
);
process.exitCode = bad.length > 0 ? 1 : 0;
