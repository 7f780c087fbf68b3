// `npm run bench`: the bridge as its own process (the built CLI on the virtual bus), a
// load generator as another (N real cannelloni TCP clients on 127.0.0.1), and the
// scenarios of issue 7. Prints a table (or --json) and checks the budgets.
//
//   node dist/test/bench/run.js [--json] [--only a,b,b0,c,d,e,f,g,m,gv,s,w,u] [--quick] [--check]
//                               [--window S] [--windows N] [--bridge-node-args=…]
//                               [--baseline-cli OTHER/dist/src/cli/main.js]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type DecoderResult, runDecoders } from './decoders.js';
import { decoderTable, fixed, int, ms, table, trafficTable } from './report.js';
import {
  DEFAULT_FLUSH_MS,
  scenarioA,
  scenarioB,
  scenarioC,
  scenarioD,
  scenarioE,
  scenarioF,
  scenarioM,
  scenarioGvret,
  scenarioS,
  scenarioUdp,
  scenarioWaveshare,
  type Timing,
} from './scenarios.js';
import { median, runTraffic, type TrafficResult, type TrafficSpec } from './traffic.js';

const ALL = ['a', 'b', 'b0', 'c', 'd', 'e', 'f', 'g', 'm', 'gv', 's', 'w', 'u'] as const;
type Key = (typeof ALL)[number];

const HELP = `Usage: npm run bench -- [--json] [--only a,b,b0,c,d,e,f,g,m,gv,s,w,u] [--quick] [--check] [--window S] [--windows N]

Scenarios (issue 7):
  a   Ampio: 2 buses × 400 fps, 32 clients per bus
  b   saturated 1 Mbit/s bus, 21,300 fps, 32 clients (default flush interval)
  b0  the same with --flush-interval 0
  c   saturation ramp with 64 clients until drops appear
  d   one stalled client among 63 healthy ones at 21,300 fps
  e   idle: 64 clients, silent bus, 10 s
  f   clients → bus: 8 clients × 2,000 fps
  g   decoders alone (cannelloni, Ampio UART), MB/s
  u   cannelloni over UDP at 21,300 fps to one peer (u), and (ut) one cannelloni TCP reader at
      the same rate: CPU per frame of the two in this run
  m   mixed protocols at 21,300 fps: 32 cannelloni + 32 tcpcan clients, and (m1) the same
      load with 64 cannelloni clients; with --baseline-cli only m1 runs (an older build
      may not speak tcpcan)
  gv  (b) to 32 GVRET sessions (SavvyCAN-style): CPU per delivered frame next to (b)'s
  s   (b) with 32 socketcand RAW-mode clients: CPU per frame compared with (b)
  w   (b) with 32 Waveshare clients (13-byte records): CPU per frame compared with (b)

  --json                 print the results as JSON on stdout (progress goes to stderr)
  --quick                one short window per scenario (a smoke run, not for publishing)
  --check                exit 1 when a budget is missed
  --window S             seconds per measuring window (default 5)
  --windows N            measuring windows per scenario; figures are medians (default 3)
  --bridge-node-args=A   extra node flags for the bridge process, e.g. "--bridge-node-args=--cpu-prof --cpu-prof-dir=/tmp/prof"
  --baseline-cli PATH    compare with another build of the bridge (its dist/src/cli/main.js): the
                         traffic scenarios run alternately on both, and the table gives ratios
  --capture              (alone) what frame capture costs, and the PostgreSQL forwarder's speed
  --ampio                (alone) what the Ampio decoder tap costs at 21,300 frames/s (budget 1 µs/frame)
`;

interface Budget {
  name: string;
  limit: string;
  value: string;
  met: boolean;
  scenario: string;
}

interface RampResult {
  steps: TrafficResult[];
  /** Highest delivered rate of a step with no drops, no gaps and the offered rate reached. */
  bestDropFreeDeliveredFps: number;
  bestRate: number;
  /** The same, among steps whose p99 also stayed within (b)'s budget (flush interval + 2 ms). */
  bestWithinLatencyFps: number;
  bestWithinLatencyRate: number;
  /** Peak RSS over every step (overloaded ones included), and over the drop-free ones. */
  peakRssMB: number;
  peakRssDropFreeMB: number;
}

async function main(): Promise<number> {
  // Frame capture has its own runner (bridge with and without a store, and PostgreSQL).
  if (process.argv.includes('--capture')) return (await import('./capture.js')).main(process.argv.slice(2));
  if (process.argv.includes('--capture-check')) return (await import('./capture-check.js')).main(process.argv.slice(2));
  // Exports of a large store (capture export to PCAPNG, ASC, PCAP, candump).
  if (process.argv.includes('--export')) return (await import('./export.js')).main(process.argv.slice(2));
  // So has the Ampio decoder tap (the tap alone, and the bridge with --ampio off and on).
  if (process.argv.includes('--ampio')) return (await import('./ampio.js')).main(process.argv.slice(2));
  // So has MQTT (the bridge with and without the publisher, and a local mosquitto).
  if (process.argv.includes('--mqtt')) return (await import('./mqtt.js')).main(process.argv.slice(2));
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      window: { type: 'string' },
      windows: { type: 'string' },
      'bridge-node-args': { type: 'string' },
      'baseline-cli': { type: 'string' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const only = new Set<Key>((values.only ? values.only.split(',') : [...ALL]) as Key[]);
  for (const k of only) if (!ALL.includes(k)) throw new Error(`unknown scenario "${k}" (known: ${ALL.join(', ')})`);
  const quick = values.quick === true;
  const timing: Timing = {
    warmS: quick ? 1 : 2,
    windowS: Number(values.window ?? (quick ? 2 : 5)),
    windows: Number(values.windows ?? (quick ? 1 : 3)),
  };
  const bridgeNodeArgs = values['bridge-node-args']?.split(' ').filter(Boolean);
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const started = performance.now();

  if (values['baseline-cli']) return compare(values['baseline-cli'], only, timing, bridgeNodeArgs, values.json === true, progress);

  const traffic: TrafficResult[] = [];
  const run = async (spec: TrafficSpec): Promise<TrafficResult> => {
    progress(`${spec.key}: ${spec.title}`);
    const r = await runTraffic(spec, { bridgeNodeArgs, progress });
    traffic.push(r);
    return r;
  };

  if (only.has('a')) await run(scenarioA(timing));
  if (only.has('b')) await run(scenarioB(timing, false));
  if (only.has('b0')) await run(scenarioB(timing, true));
  if (only.has('d')) await run(scenarioD(timing));
  // (e) is about CPU over a long quiet stretch: one 10 s window (issue 7).
  if (only.has('e')) await run(scenarioE({ warmS: 2, windowS: quick ? 3 : 10, windows: 1 }));
  if (only.has('f')) await run(scenarioF(timing));
  if (only.has('m')) {
    await run(scenarioM(timing, false));
    await run(scenarioM(timing, true));
  }
  if (only.has('gv')) await run(scenarioGvret(timing));
  if (only.has('s')) await run(scenarioS(timing));
  if (only.has('w')) await run(scenarioWaveshare(timing));
  if (only.has('u')) {
    // TCP first, then UDP: a busy shared host quietens or worsens over a run; --only u twice
    // with the order swapped showed the order itself moves the ratio by less than 0.1.
    await run(scenarioUdp(timing, false));
    await run(scenarioUdp(timing, true));
  }
  const ramp = only.has('c') ? await runRamp(quick, bridgeNodeArgs, progress) : null;
  let decoders: DecoderResult[] = [];
  if (only.has('g')) {
    progress('g: decoders alone');
    decoders = runDecoders(quick ? 3 : 7);
  }
  const elapsedS = (performance.now() - started) / 1000;

  const budgets = checkBudgets(traffic, ramp);
  const machine = describeMachine();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), elapsedS, machine, timing, traffic, ramp, decoders, budgets }, null, 2)}\n`);
  } else {
    const out: string[] = [];
    out.push(`ampio-bridge benchmark, ${new Date().toISOString()}, ${elapsedS.toFixed(0)} s`);
    out.push(`${machine.cpuModel}, ${machine.nproc} CPUs, Node ${machine.node}, load average before ${machine.loadAverage.map((x) => x.toFixed(2)).join(' ')}`);
    out.push(
      `windows: ${timing.windows} × ${timing.windowS} s per scenario after ${timing.warmS} s warm-up; figures are medians over windows, drops/order/max the worst window`,
    );
    out.push('');
    if (traffic.length) {
      out.push(trafficTable(traffic));
      out.push('');
      out.push('drops/gaps: frames the bridge dropped for healthy clients / frames missing in their sequences');
      out.push('latency: bus ingress (virtual bus send time) → decode in the load generator; µs/frame: bridge CPU per delivered frame');
      const f = traffic.find((t) => t.key === 'f');
      if (f) {
        const m = f.median;
        out.push(
          `(f) clients sent ${int(m.offeredFps)}/s; reached the bus ${int(m.toBusFps)}/s; other clients got ${int(m.deliveredFps)}/s of ${int(m.offeredFps * 7)}/s expected (7 others each)`,
        );
      }
      const m = traffic.find((t) => t.key === 'm');
      const m1 = traffic.find((t) => t.key === 'm1');
      if (m && m1) {
        out.push(
          `(m) a second protocol on the bus: ${fixed(m.median.bridgeCpuUsPerFrame, 3)} µs/frame mixed vs ${fixed(m1.median.bridgeCpuUsPerFrame, 3)} with cannelloni alone (×${fixed(m.median.bridgeCpuUsPerFrame / m1.median.bridgeCpuUsPerFrame, 2)})`,
        );
      }
      const d = traffic.find((t) => t.key === 'd');
      if (d) out.push(`(d) the stalled client: ${int(d.median.stalledDrops)} frames dropped for it in a window (healthy ones: ${int(d.median.healthyDrops)})`);
      const s = traffic.find((t) => t.key === 's');
      const b = traffic.find((t) => t.key === 'b');
      if (s && b)
        out.push(
          `(s) socketcand ${fixed(s.median.bridgeCpuUsPerFrame, 2)} µs per delivered frame = ${fixed(s.median.bridgeCpuUsPerFrame / b.median.bridgeCpuUsPerFrame, 2)}× cannelloni's (b) in this run`,
        );
      const w = traffic.find((t) => t.key === 'w');
      const u = traffic.find((t) => t.key === 'u');
      const ut = traffic.find((t) => t.key === 'ut');
      if (u && ut)
        out.push(
          `(u) cannelloni UDP, one peer: ${fixed(u.median.bridgeCpuUsPerFrame, 2)} µs per delivered frame = ${fixed(u.median.bridgeCpuUsPerFrame / ut.median.bridgeCpuUsPerFrame, 2)}× one cannelloni TCP reader's (ut, ${fixed(ut.median.bridgeCpuUsPerFrame, 2)} µs) in this run`,
        );
      if (w && b)
        out.push(
          `(w) Waveshare ${fixed(w.median.bridgeCpuUsPerFrame, 2)} µs per delivered frame = ${fixed(w.median.bridgeCpuUsPerFrame / b.median.bridgeCpuUsPerFrame, 2)}× cannelloni's (b) in this run`,
        );
      out.push('');
    }
    if (ramp) {
      out.push(`(c) ramp, 64 clients: highest drop-free delivered rate ${int(ramp.bestDropFreeDeliveredFps)} frames/s (bus ${int(ramp.bestRate)} fps)`);
      out.push(
        `    with p99 also ≤ ${DEFAULT_FLUSH_MS + 2} ms: ${int(ramp.bestWithinLatencyFps)} frames/s (bus ${int(ramp.bestWithinLatencyRate)} fps); peak RSS ${fixed(ramp.peakRssDropFreeMB, 0)} MB over the drop-free steps, ${fixed(ramp.peakRssMB, 0)} MB over all`,
      );
      out.push(trafficTable(ramp.steps));
      out.push('');
    }
    if (decoders.length) {
      out.push('(g) decoders alone (median of runs of ≥ 250 ms)');
      out.push(decoderTable(decoders));
      out.push('');
    }
    if (budgets.length) {
      out.push('budgets');
      out.push(
        table(
          ['budget', 'scenario', 'limit', 'measured', 'status'],
          budgets.map((b) => [b.name, b.scenario, b.limit, b.value, b.met ? 'met' : 'MISSED']),
        ),
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  // With --check a missed budget fails the command (for scripts); by default the run
  // succeeds whenever it measured, since a shared machine's noise alone can miss a budget.
  return values.check && !budgets.every((b) => b.met) ? 1 : 0;
}

/**
 * (c) Raise the bus rate with 64 clients until drops appear (or the bridge cannot even
 * generate the rate), then bisect once between the last good and the first bad step.
 */
async function runRamp(quick: boolean, bridgeNodeArgs: string[] | undefined, progress: (l: string) => void, cli?: string): Promise<RampResult> {
  const timing: Timing = { warmS: 1, windowS: quick ? 2 : 3, windows: 1 };
  const steps: TrafficResult[] = [];
  const clean = (r: TrafficResult): boolean =>
    r.median.healthyDrops === 0 &&
    r.median.healthyGaps === 0 &&
    r.median.closedClients === 0 &&
    r.median.orderingViolations === 0 &&
    r.median.offeredFps >= 0.97 * r.configuredFps;
  const step = async (rate: number): Promise<boolean> => {
    const spec = scenarioC(timing, rate);
    progress(`${spec.key}: ${spec.title}`);
    const r = await runTraffic(spec, { bridgeNodeArgs, progress, cli });
    steps.push(r);
    return clean(r);
  };
  let good = 0;
  let bad = 0;
  for (let rate = 10_000; rate <= 160_000; rate = Math.round(rate * 1.3)) {
    if (await step(rate)) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  if (good > 0 && bad > 0) await step(Math.round((good + bad) / 2 / 100) * 100);
  const highest = (rs: TrafficResult[]): TrafficResult | null =>
    rs.reduce<TrafficResult | null>((b, r) => (!b || r.median.deliveredFps > b.median.deliveredFps ? r : b), null);
  const cleanSteps = steps.filter(clean);
  const best = highest(cleanSteps);
  const fast = highest(cleanSteps.filter((r) => r.median.latency.p99Us <= (DEFAULT_FLUSH_MS + 2) * 1000));
  steps.sort((x, y) => x.configuredFps - y.configuredFps);
  return {
    steps,
    bestDropFreeDeliveredFps: best?.median.deliveredFps ?? 0,
    bestRate: best?.configuredFps ?? 0,
    bestWithinLatencyFps: fast?.median.deliveredFps ?? 0,
    bestWithinLatencyRate: fast?.configuredFps ?? 0,
    peakRssMB: Math.max(...steps.map((s) => s.peakRssMB)),
    peakRssDropFreeMB: Math.max(0, ...cleanSteps.map((s) => s.peakRssMB)),
  };
}

function checkBudgets(traffic: TrafficResult[], ramp: RampResult | null): Budget[] {
  const out: Budget[] = [];
  const get = (k: string): TrafficResult | undefined => traffic.find((t) => t.key === k);
  const b = get('b');
  if (b) {
    const m = b.median;
    out.push({
      name: 'drops',
      scenario: 'b',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    out.push({ name: 'ordering violations', scenario: 'b', limit: '0', value: int(m.orderingViolations), met: m.orderingViolations === 0 });
    const limit = (DEFAULT_FLUSH_MS + 2) * 1000;
    out.push({
      name: 'p99 latency, default flush',
      scenario: 'b',
      limit: `≤ ${ms(limit)} ms`,
      value: `${ms(m.latency.p99Us)} ms`,
      met: m.latency.p99Us <= limit,
    });
    out.push({
      name: 'bridge CPU per delivered frame',
      scenario: 'b',
      limit: '≤ 1.50 µs',
      value: `${fixed(m.bridgeCpuUsPerFrame, 2)} µs`,
      met: m.bridgeCpuUsPerFrame <= 1.5,
    });
  }
  const s = get('s');
  if (s) {
    const m = s.median;
    out.push({
      name: 'drops, socketcand',
      scenario: 's',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    if (b) {
      const ratio = m.bridgeCpuUsPerFrame / b.median.bridgeCpuUsPerFrame;
      out.push({ name: 'socketcand CPU per frame vs cannelloni (b)', scenario: 's', limit: '≤ 2.00×', value: `${fixed(ratio, 2)}×`, met: ratio <= 2 });
    }
  }
  const w = get('w');
  if (w) {
    const m = w.median;
    out.push({
      name: 'drops, Waveshare',
      scenario: 'w',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    // Both are fixed binary records encoded once per bus frame: within 1.2× of each other.
    if (b) {
      const ratio = m.bridgeCpuUsPerFrame / b.median.bridgeCpuUsPerFrame;
      out.push({ name: 'Waveshare CPU per frame vs cannelloni (b)', scenario: 'w', limit: '≤ 1.20×', value: `${fixed(ratio, 2)}×`, met: ratio <= 1.2 });
    }
  }
  const u = get('u');
  const ut = get('ut');
  if (u) {
    const m = u.median;
    out.push({
      name: 'drops, cannelloni UDP (loopback)',
      scenario: 'u',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    // Issue 27: with cannelloni's batching a UDP peer costs no more than a TCP client.
    if (ut) {
      const ratio = m.bridgeCpuUsPerFrame / ut.median.bridgeCpuUsPerFrame;
      out.push({ name: 'UDP CPU per frame vs one TCP reader (ut)', scenario: 'u', limit: '≤ 1.00×', value: `${fixed(ratio, 2)}×`, met: ratio <= 1 });
    }
  }
  const b0 = get('b0');
  if (b0) {
    const m = b0.median;
    out.push({
      name: 'drops, --flush-interval 0',
      scenario: 'b0',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    out.push({
      name: 'ordering violations, --flush-interval 0',
      scenario: 'b0',
      limit: '0',
      value: int(m.orderingViolations),
      met: m.orderingViolations === 0,
    });
    out.push({ name: 'p99 latency, --flush-interval 0', scenario: 'b0', limit: '≤ 1.00 ms', value: `${ms(m.latency.p99Us)} ms`, met: m.latency.p99Us <= 1000 });
  }
  if (ramp) {
    out.push({
      name: 'saturation, drop-free delivered',
      scenario: 'c',
      limit: '≥ 1,000,000/s',
      value: `${int(ramp.bestDropFreeDeliveredFps)}/s`,
      met: ramp.bestDropFreeDeliveredFps >= 1_000_000,
    });
    // Judged over every step, the overloaded ones past the drop-free rate included.
    out.push({ name: 'peak RSS (all ramp steps)', scenario: 'c', limit: '≤ 120 MB', value: `${fixed(ramp.peakRssMB, 0)} MB`, met: ramp.peakRssMB <= 120 });
  }
  const d = get('d');
  if (d) {
    const m = d.median;
    const limit = (DEFAULT_FLUSH_MS + 2) * 1000;
    out.push({
      name: 'healthy clients lose nothing',
      scenario: 'd',
      limit: '0',
      value: `${m.healthyDrops} dropped, ${m.healthyGaps} gaps`,
      met: m.healthyDrops === 0 && m.healthyGaps === 0,
    });
    out.push({ name: 'healthy clients p99', scenario: 'd', limit: `≤ ${ms(limit)} ms`, value: `${ms(m.latency.p99Us)} ms`, met: m.latency.p99Us <= limit });
  }
  const e = get('e');
  if (e)
    out.push({
      name: 'idle CPU',
      scenario: 'e',
      limit: '≤ 1 % of a core',
      value: `${fixed(e.median.bridgeCpuPercent, 2)} %`,
      met: e.median.bridgeCpuPercent <= 1,
    });
  return out;
}

/**
 * Baseline comparison: every selected traffic scenario runs `timing.windows` times on each
 * build, alternating which goes first, so a change in the machine's load hits both alike.
 * Each run is a fresh bridge and load generator with one measuring window.
 */
async function compare(
  baselineCli: string,
  only: Set<Key>,
  timing: Timing,
  bridgeNodeArgs: string[] | undefined,
  json: boolean,
  progress: (l: string) => void,
): Promise<number> {
  const specs: TrafficSpec[] = [];
  const one: Timing = { ...timing, windows: 1 };
  if (only.has('a')) specs.push(scenarioA(one));
  if (only.has('b')) specs.push(scenarioB(one, false));
  if (only.has('b0')) specs.push(scenarioB(one, true));
  if (only.has('d')) specs.push(scenarioD(one));
  if (only.has('e')) specs.push(scenarioE({ warmS: 2, windowS: 10, windows: 1 }));
  if (only.has('f')) specs.push(scenarioF(one));
  if (only.has('m')) specs.push(scenarioM(one, false));
  const rows: Array<{ key: string; baseline: TrafficResult[]; current: TrafficResult[] }> = [];
  for (const spec of specs) {
    const row = { key: spec.key, baseline: [] as TrafficResult[], current: [] as TrafficResult[] };
    for (let k = 0; k < timing.windows; k++) {
      const order: Array<'baseline' | 'current'> = k % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
      for (const side of order) {
        progress(`${spec.key} (${side}, round ${k + 1}/${timing.windows}): ${spec.title}`);
        row[side].push(await runTraffic(spec, { bridgeNodeArgs, progress, cli: side === 'baseline' ? baselineCli : undefined }));
      }
    }
    rows.push(row);
  }
  const med = (rs: TrafficResult[], f: (r: TrafficResult) => number): number => median(rs.map(f));
  const figures: Array<[string, (r: TrafficResult) => number, (n: number) => string]> = [
    ['CPU µs/frame', (r) => r.median.bridgeCpuUsPerFrame, (n) => fixed(n, 3)],
    ['delivered/s', (r) => r.median.deliveredFps, int],
    ['CPU %', (r) => r.median.bridgeCpuPercent, (n) => fixed(n, 1)],
    ['p50 ms', (r) => r.median.latency.p50Us, ms],
    ['p99 ms', (r) => r.median.latency.p99Us, ms],
    ['RSS MB', (r) => r.peakRssMB, (n) => fixed(n, 0)],
  ];
  const summary = rows.map((row) => ({
    key: row.key,
    figures: Object.fromEntries(
      figures.map(([name, f]) => {
        const b = med(row.baseline, f);
        const c = med(row.current, f);
        return [name, { baseline: b, current: c, ratio: c / b }];
      }),
    ),
  }));
  // (c) the saturation ramp on each build, alternating which goes first.
  const ramps = { baseline: [] as RampResult[], current: [] as RampResult[] };
  if (only.has('c')) {
    for (let k = 0; k < Math.max(1, Math.min(2, timing.windows)); k++) {
      const order: Array<'baseline' | 'current'> = k % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
      for (const side of order) {
        progress(`c (${side}, round ${k + 1}): saturation ramp`);
        ramps[side].push(await runRamp(false, bridgeNodeArgs, progress, side === 'baseline' ? baselineCli : undefined));
      }
    }
  }
  const rampBest = (rs: RampResult[]): number => median(rs.map((r) => r.bestDropFreeDeliveredFps));
  const rampLine =
    ramps.current.length > 0
      ? `(c) drop-free delivered, 64 clients: ${int(rampBest(ramps.baseline))}/s → ${int(rampBest(ramps.current))}/s (${fixed(rampBest(ramps.current) / rampBest(ramps.baseline), 2)}); ` +
        `runs: base ${ramps.baseline.map((r) => int(r.bestDropFreeDeliveredFps)).join(', ')}; now ${ramps.current.map((r) => int(r.bestDropFreeDeliveredFps)).join(', ')}`
      : '';
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ date: new Date().toISOString(), machine: describeMachine(), baselineCli, timing, summary, rows, ramps }, null, 2)}\n`,
    );
  } else {
    const header = ['scenario', ...figures.map(([name]) => `${name} base → now (×)`)];
    const body = summary.map((s) => [
      s.key,
      ...figures.map(([name, , f]) => {
        const v = s.figures[name];
        return `${f(v.baseline)} → ${f(v.current)} (${fixed(v.ratio, 2)})`;
      }),
    ]);
    process.stdout.write(
      `baseline ${baselineCli}: medians of ${timing.windows} alternating runs × ${timing.windowS} s\n${table(header, body)}\n${rampLine ? `${rampLine}\n` : ''}`,
    );
  }
  return 0;
}

function describeMachine(): { cpuModel: string; nproc: number; node: string; loadAverage: number[]; totalMemGiB: number } {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux: os.cpus() will do
  }
  return { cpuModel, nproc: os.availableParallelism(), node: process.version, loadAverage: os.loadavg(), totalMemGiB: os.totalmem() / 2 ** 30 };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  },
);
