// Guest side of the VM suite, GVRET checks, run by socketcan-daemon.ts against the same
// BUILT `serve` (one daemon start is most of the guest's time under TCG): its GVRET port
// (`--gvret-listen 127.0.0.1:2323 --gvret-fd wiretap`) on real vcan interfaces (MTU 72), the
// spec-written SavvyCAN and WireTAP clients, and can-utils as independent peers. Checks frames
// both ways, bus numbers, kernel receive times as GVRET timestamps, and CAN FD (WireTAP form).
import { SavvyCanClient } from '../../support/savvycan-client.js';
import { WireTapClient } from '../../support/wiretap-client.js';
import { Candump, check, equalLists, sh, sleep } from './can-tools.js';

/** The serve flags these checks need. */
export const GVRET_PORT = 2323;
export const GVRET_FLAGS = ['--gvret-listen', `127.0.0.1:${GVRET_PORT}`, '--gvret-fd', 'wiretap'];
const T = 30_000;

const hex = (b: Buffer): string => b.toString('hex').toUpperCase();
const idText = (id: number, ext: boolean): string => (ext ? id.toString(16).toUpperCase().padStart(8, '0') : id.toString(16).toUpperCase().padStart(3, '0'));

let savvy: SavvyCanClient;
let wiretap: WireTapClient;

async function connect() {
  [savvy, wiretap] = await Promise.all([SavvyCanClient.connect(GVRET_PORT), WireTapClient.connect(GVRET_PORT)]);
  await savvy.waitConnected(T);
  await wiretap.until(() => wiretap.replies.get(0x07) === 1, T, 'the F1 07 reply');
  return { savvyConnected: savvy.status, buses: savvy.numBuses, bitrates: savvy.bitrates };
}

async function busToGvret() {
  const dump = await Candump.start('vcan0', 'vcan1');
  const cases: Array<[string, string]> = [
    ['vcan0', '123#DEADBEEF'],
    ['vcan1', '18DAF110#0102'],
    ['vcan1', '7FF#'],
    ['vcan0', `456##1${'A5'.repeat(12)}`],
    ['vcan1', '321#11'],
  ];
  for (const [iface, frame] of cases) sh(`cansend ${iface} '${frame}'`);
  const seen = await dump.waitFor(cases.length, T);
  await dump.stop();
  await wiretap.until(
    () => wiretap.frames.length >= cases.length,
    T,
    () => `${cases.length} frames at WireTAP (have ${wiretap.frames.length})`,
  );
  await savvy.until(() => savvy.frames.some((f) => f.id === 0x321), T, '0x321 at SavvyCAN');
  await sleep(300);
  // WireTAP: every frame, FD included, with the bus of its interface and the kernel's receive time.
  const w = wiretap.frames.map((f) => `${f.bus}:${idText(f.id, f.extended)}${f.fd ? '##' : '#'}${hex(f.data)}`);
  const expected = seen.map((l) => `${l.iface === 'vcan0' ? 0 : 1}:${l.text}`);
  equalLists(w, expected, 'WireTAP vs candump');
  // Every frame carries the kernel's receive time (SO_TIMESTAMPNS), the first one too. The
  // bridge holds it as fractional ms in a double (about 0.25 µs resolution at today's epoch)
  // and candump prints truncated µs, so they may differ by 1 µs, as in the backend's check.
  let judged = 0;
  wiretap.frames.forEach((f, k) => {
    judged++;
    const kernel = seen[k].tsUs % 2 ** 32;
    const diff = Math.abs(f.timestamp - kernel);
    check(diff <= 1 || diff >= 2 ** 32 - 1, `frame ${k}: GVRET timestamp ${f.timestamp} vs kernel ${kernel}`);
  });
  check(judged === seen.length, `${judged} frames judged of ${seen.length}`);
  // SavvyCAN: the same minus the zero-length and FD frames, which its parser cannot take.
  const s = savvy.frames.map((f) => `${f.bus}:${idText(f.id, f.extended)}#${hex(f.data)}`);
  equalLists(
    s,
    expected.filter((e) => !e.endsWith(':7FF#') && !e.includes('##')),
    'SavvyCAN vs candump',
  );
  check(savvy.stuckAt === null, `SavvyCAN parser stuck at ${savvy.stuckAt}`);
  return { frames: cases.length, savvy: s.length, timestampsFromKernel: true };
}

async function gvretToBus() {
  const dump = await Candump.start('vcan0', 'vcan1');
  savvy.send({ id: 0x321, bus: 1, data: [0x11, 0x22] });
  savvy.send({ id: 0x1abcdef0, extended: true, bus: 0, data: [1, 2, 3, 4, 5, 6, 7, 8] });
  wiretap.send({ id: 0x654, bus: 0, data: new Array(16).fill(0x5a) }); // FD: the byte count as length
  wiretap.send({ id: 0x7df, bus: 1, data: [0x02, 0x01, 0x0d] });
  const seen = await dump.waitFor(4, T);
  await dump.stop();
  const got = seen.map((l) => `${l.iface}:${l.text}`).sort();
  equalLists(
    got,
    [`vcan0:654##${'5A'.repeat(16)}`, 'vcan0:1ABCDEF0#0102030405060708', 'vcan1:321#1122', 'vcan1:7DF#02010D'].sort(),
    'candump vs what the GVRET clients sent',
  );
  return { frames: 4 };
}

async function stillConnected() {
  // SavvyCAN starts keepalives 5 s after connecting and gives up after ~2.5 s without replies;
  // the checks before this one took longer than that under TCG.
  await savvy.until(() => savvy.keepalivesSent > 0 || savvy.status !== 'connected', T, 'the first keepalive');
  check(savvy.status === 'connected', `SavvyCAN ${savvy.status}: ${savvy.disconnectReason}`);
  check(savvy.keepalivesSent > 0 && savvy.minCounter >= 7, `keepalives ${savvy.keepalivesSent}, lowest counter ${savvy.minCounter}`);
  return { keepalives: savvy.keepalivesSent, minCounter: savvy.minCounter };
}

/** The checks, in order; the caller runs them after serve is ready and closes the clients after. */
export const GVRET_CHECKS: [string, () => Promise<Record<string, unknown>>][] = [
  ['gvret_connect', connect],
  ['gvret_bus_to_clients', busToGvret],
  ['gvret_clients_to_bus', gvretToBus],
  ['gvret_keepalive', stillConnected],
];

export function closeGvretClients(): void {
  savvy?.close();
  wiretap?.close();
}
