// Guest-side socketcand checks for the VM suite: socketcand clients written from the
// protocol description (test/support/socketcand-client.ts) against the BUILT CLI that
// socketcan-daemon.ts runs (`serve --backend socketcan --can-if vcan0,vcan1
// --socketcand-listen 127.0.0.1:29536`), can-utils as independent peers.
import { type ScFrame, SocketcandClient } from '../../support/socketcand-client.js';
import { Candump, canonical, check, equalLists, sh, sleep } from './can-tools.js';

export const SOCKETCAND_PORT = 29536;
const PORT = SOCKETCAND_PORT;
const T = 30_000;

const text = (f: ScFrame): string => canonical(f.id, f.extended, { data: f.data });
const micros = (f: ScFrame): number => Number(f.timeText.replace('.', ''));

async function rawClient(bus: string): Promise<SocketcandClient> {
  const c = await SocketcandClient.connect(PORT, bus);
  await c.command('< rawmode >', '< ok >', T);
  await sleep(300);
  return c;
}

/** Bus → socketcand clients on both channels, with the kernel's receive time as SEC.USEC. */
async function rxKernelTimestamps() {
  const c0 = await rawClient('vcan0');
  const c1 = await rawClient('vcan1');
  const dump = await Candump.start('vcan0', 'vcan1');
  const on0 = ['123#DEADBEEF', '1ABCDEF0#0102', '7FF#', '00000042#AA'];
  for (const f of on0) sh(`cansend vcan0 '${f}'`);
  sh(`cansend vcan0 '456#R'`); // RTR: not carried by socketcand (as upstream)
  sh(`cansend vcan1 '321#11'`);
  sh(`cansend vcan1 '322#22'`);
  const seen = await dump.waitFor(7, T);
  await dump.stop();
  await c0.waitFrames(4, T);
  await c1.waitFrames(2, T);
  await sleep(300);
  const bus0 = seen.filter((l) => l.iface === 'vcan0' && !l.text.includes('#R'));
  const bus1 = seen.filter((l) => l.iface === 'vcan1');
  equalLists(
    c0.frames.map(text),
    bus0.map((l) => l.text),
    'vcan0 client vs candump',
  );
  equalLists(
    c1.frames.map(text),
    bus1.map((l) => l.text),
    'vcan1 client vs candump',
  );
  const diff0 = c0.frames.map((f, k) => micros(f) - bus0[k].tsUs);
  const diff1 = c1.frames.map((f, k) => micros(f) - bus1[k].tsUs);
  // As in the backend check: every frame, the first one too, carries the kernel's receive
  // time (SO_TIMESTAMPNS); 1 µs apart at most (candump truncates, the bridge holds a double).
  const tsDiffUs = [...diff0, ...diff1];
  check(
    tsDiffUs.every((d) => Math.abs(d) <= 1),
    `SEC.USEC differs from candump's kernel time: ${JSON.stringify([diff0, diff1])}`,
  );
  check(
    c0.frames.every((f) => f.timeText.length > 7),
    'six microsecond digits',
  );
  c0.close();
  c1.close();
  return { vcan0: c0.frames.length, vcan1: c1.frames.length, tsDiffUs };
}

/** socketcand clients → bus, each on its own channel; the other channel stays quiet. */
async function txBothChannels() {
  const c0 = await rawClient('vcan0');
  const c1 = await rawClient('vcan1');
  const dump = await Candump.start('vcan0', 'vcan1');
  c0.write('< send 123 3 1 a ff >< send 1ABCDEF0 0 >< send 7DF 8  >');
  c1.write('< send 80000123 1 33 >< send 456 2 be ef  >');
  const seen = await dump.waitFor(4, T);
  await sleep(500);
  const lines = (await dump.stop()).map((l) => `${l.iface} ${l.text}`);
  equalLists(
    lines.filter((l) => l.startsWith('vcan0')),
    ['vcan0 123#010AFF', 'vcan0 1ABCDEF0#'],
    'vcan0 (the RTR form is dropped)',
  );
  equalLists(
    lines.filter((l) => l.startsWith('vcan1')),
    ['vcan1 00000123#33', 'vcan1 456#BEEF'],
    'vcan1',
  );
  check(c0.frames.length === 0 && c1.frames.length === 0, 'a sender does not get its own frames back');
  c0.close();
  c1.close();
  return { frames: seen.length };
}

/** Run by socketcan-daemon.ts against its serve (one start under TCG costs ~50 s). */
export const SOCKETCAND_CHECKS: [string, () => Promise<Record<string, unknown>>][] = [
  ['socketcand_rx_kernel_timestamps', rxKernelTimestamps],
  ['socketcand_tx_both_channels', txBothChannels],
];
