// The device supervisor shared by the serial and SocketCAN backends, on a manual clock with
// a scripted device: open, fault (reported by the backend or found by a look), backoff,
// reappearance, stop at every awkward moment. The backends' own tests (serial on a real
// PTY, SocketCAN in the VM) check the same rules end to end.
import { beforeEach, describe, expect, it } from 'vitest';
import { DeviceSupervisor, type DeviceSupervisorOptions, type SupervisedDevice } from '../../../src/backends/device-supervisor.js';
import { ManualClock } from '../../support/manual-clock.js';

interface Handle {
  id: number;
  closed: boolean;
}
/** What a look sees: whether the device is there, and which one (a new token = replaced). */
interface Look {
  present: boolean;
  token: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class ScriptedDevice implements SupervisedDevice<Handle, Look> {
  there = true;
  token = 1;
  /** Opens throw this while set. */
  openError: Error | null = null;
  /** Opens (or looks) wait for the test to settle them while set. */
  holdOpens = false;
  holdLooks = false;
  readonly heldOpens: Deferred<Handle>[] = [];
  readonly heldLooks: Deferred<Look>[] = [];
  /** Clock time of every open attempt. */
  readonly attempts: number[] = [];
  looks = 0;
  readonly events: string[] = [];
  readonly failures: { problem: string; retryMs: number; firstTime: boolean }[] = [];
  readonly lostRetries: (number | null)[] = [];
  private lastId = 0;

  constructor(private readonly clock: ManualClock) {}

  look = (): Promise<Look> => {
    this.looks++;
    const seen = { present: this.there, token: this.token };
    if (!this.holdLooks) return Promise.resolve(seen);
    const d = deferred<Look>();
    this.heldLooks.push(d);
    return d.promise;
  };
  present = (look: Look): boolean => look.present;
  faultOf = (_h: Handle, look: Look, atOpen: Look): string | null => {
    if (!look.present) return 'vanished';
    return look.token !== atOpen.token ? 'replaced' : null;
  };
  open = (): Handle | Promise<Handle> => {
    this.attempts.push(this.clock.now());
    if (this.holdOpens) {
      const d = deferred<Handle>();
      this.heldOpens.push(d);
      return d.promise;
    }
    if (this.openError) throw this.openError;
    return this.newHandle();
  };
  newHandle(): Handle {
    return { id: ++this.lastId, closed: false };
  }
  close = (h: Handle): void => {
    h.closed = true;
    this.events.push(`close ${h.id}`);
  };
  opened = (h: Handle, reopen: boolean): void => {
    this.events.push(`opened ${h.id}${reopen ? ' (reopen)' : ''}`);
  };
  problemOf = (err: unknown): string => (err as Error).message;
  openFailed = (_err: unknown, f: { problem: string; retryMs: number; firstTime: boolean }): void => {
    this.failures.push({ problem: f.problem, retryMs: f.retryMs, firstTime: f.firstTime });
    this.events.push(`failed ${f.problem}`);
  };
  lost = (h: Handle, why: string, retryMs: number | null): void => {
    this.lostRetries.push(retryMs);
    this.events.push(`lost ${h.id}: ${why}`);
  };
  missing = (_look: Look, vanished: boolean): void => {
    this.events.push(vanished ? 'missing (vanished)' : 'missing');
  };
}

const LOOK_OPEN = 1000;
const LOOK_CLOSED = 100;

let clock: ManualClock;
let device: ScriptedDevice;
let sup: DeviceSupervisor<Handle, Look>;

function supervise(over: Partial<DeviceSupervisorOptions> = {}): DeviceSupervisor<Handle, Look> {
  sup = new DeviceSupervisor(device, {
    now: clock.now,
    timers: clock,
    lookMs: { open: LOOK_OPEN, closed: LOOK_CLOSED },
    backoff: { initial: 200, max: 800 },
    retryAfterLoss: 'next-look',
    ...over,
  });
  return sup;
}

/** Lets every promise chain the supervisor started settle (looks and opens are async). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the clock `ms` forward, letting each look finish before the next is due. */
const run = (ms: number): Promise<void> => clock.settleThrough(ms);

beforeEach(() => {
  clock = new ManualClock();
  device = new ScriptedDevice(clock);
});

describe('DeviceSupervisor', () => {
  it('opens a present device at start and then looks at the open-device interval; the first open is no reopen', async () => {
    await supervise().start();
    expect(device.events).toEqual(['opened 1']);
    expect(sup.handle?.id).toBe(1);
    expect(clock.dueTimes()).toEqual([LOOK_OPEN]);
    await run(3 * LOOK_OPEN);
    expect(device.looks).toBe(4);
    expect(device.attempts).toEqual([0]);
    expect(sup.reopens).toBe(0);
  });

  it('a fault the backend reports while open: closed, reported, reopened at the next closed-interval look; faults on the old handle are ignored', async () => {
    await supervise().start();
    const first = sup.handle!;
    await run(300);
    sup.lose(first, 'socket error');
    expect(first.closed).toBe(true);
    expect(sup.handle).toBeNull();
    expect(device.events).toEqual(['opened 1', 'close 1', 'lost 1: socket error']);
    expect(device.lostRetries).toEqual([null]);
    // The pending open-device look (due at 1000) is re-armed at the closed interval.
    expect(clock.dueTimes()).toEqual([300 + LOOK_CLOSED]);
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('opened 2 (reopen)');
    expect(device.attempts).toEqual([0, 400]);
    expect(sup.reopens).toBe(1);
    // A late callback of the closed handle (a queued socket error, a port's close event).
    sup.lose(first, 'late error');
    expect(sup.handle?.id).toBe(2);
    expect(device.events.at(-1)).toBe('opened 2 (reopen)');
  });

  it('a fault found by a look (device replaced): lost at that look, reopened at the next one', async () => {
    await supervise().start();
    device.token = 2;
    await run(LOOK_OPEN);
    expect(device.events).toEqual(['opened 1', 'close 1', 'lost 1: replaced']);
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('opened 2 (reopen)');
    expect(device.attempts).toEqual([0, LOOK_OPEN + LOOK_CLOSED]);
  });

  it("with retryAfterLoss 'backoff', a lost device waits one backoff step and opens at the first look after it", async () => {
    await supervise({ retryAfterLoss: 'backoff', backoff: { initial: 250, max: 800 } }).start();
    sup.lose(sup.handle!, 'port closed');
    expect(device.lostRetries).toEqual([250]);
    await run(1000);
    // Looks at 100 and 200 are before the step; the one at 300 opens.
    expect(device.attempts).toEqual([0, 300]);
    expect(sup.reopens).toBe(1);
  });

  it('a device that fails to open is retried on the backoff schedule, doubling to the ceiling; a problem is new only when it changes', async () => {
    device.openError = new Error('busy');
    await supervise().start();
    await run(2200);
    // 200, 400, 800, 800: each try at the first look at or after its step.
    expect(device.attempts).toEqual([0, 200, 600, 1400, 2200]);
    expect(device.failures.map((f) => f.retryMs)).toEqual([200, 400, 800, 800, 800]);
    expect(device.failures.map((f) => f.firstTime)).toEqual([true, false, false, false, false]);
    device.openError = new Error('permission denied');
    await run(800);
    expect(device.failures.at(-1)).toMatchObject({ problem: 'permission denied', firstTime: true });
    expect(sup.handle).toBeNull();
    expect(clock.dueTimes()).toEqual([3000 + LOOK_CLOSED]);
  });

  it('a successful open starts the backoff and the problem log afresh', async () => {
    device.openError = new Error('busy');
    await supervise().start();
    await run(600); // failures at 0, 200, 600: the next step would be 800
    expect(device.failures.map((f) => f.retryMs)).toEqual([200, 400, 800]);
    device.openError = null;
    await run(800);
    expect(sup.handle).not.toBeNull();
    device.openError = new Error('busy');
    sup.lose(sup.handle!, 'link down');
    await run(LOOK_CLOSED);
    expect(device.failures.at(-1)).toEqual({ problem: 'busy', retryMs: 200, firstTime: true });
  });

  it('a device that vanishes and reappears is tried at once with a fresh backoff, not when its backoff step ends', async () => {
    device.openError = new Error('busy');
    await supervise().start();
    await run(600); // tries at 0, 200, 600; the next one would wait until 1400
    device.there = false;
    await run(LOOK_CLOSED);
    await run(LOOK_CLOSED);
    expect(device.events.slice(-2)).toEqual(['missing (vanished)', 'missing']);
    device.there = true;
    await run(LOOK_CLOSED);
    expect(device.attempts).toEqual([0, 200, 600, 900]);
    expect(device.failures.at(-1)?.retryMs).toBe(200);
  });

  it('after a loss the device counts as present until a look finds it missing', async () => {
    await supervise().start();
    device.there = false;
    await run(LOOK_OPEN);
    expect(device.events).toEqual(['opened 1', 'close 1', 'lost 1: vanished']);
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('missing (vanished)');
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('missing');
    device.there = true;
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('opened 2 (reopen)');
  });

  it('a missing device at start is reported missing, not opened; with openOnFirstLook the first open is tried anyway', async () => {
    device.there = false;
    await supervise().start();
    expect(device.attempts).toEqual([]);
    expect(device.events).toEqual(['missing']);
    await sup.stop();

    const other = new ScriptedDevice(clock);
    device = other;
    device.there = false;
    device.openError = new Error('no such file');
    await supervise({ openOnFirstLook: true }).start();
    expect(device.events).toEqual(['failed no such file']);
    await run(1000);
    // Only the first look opens regardless; later ones wait for the device to appear.
    expect(device.attempts).toEqual([0]);
    device.there = true;
    device.openError = null;
    await run(LOOK_CLOSED);
    expect(device.events.at(-1)).toBe('opened 1');
  });

  it('stop during the backoff wait: no more looks, no more opens', async () => {
    device.openError = new Error('busy');
    await supervise().start();
    await run(LOOK_CLOSED);
    await sup.stop();
    expect(clock.dueTimes()).toEqual([]);
    const looks = device.looks;
    await run(10_000);
    expect(device.looks).toBe(looks);
    expect(device.attempts).toEqual([0]);
    expect(sup.stopped).toBe(true);
    await sup.stop(); // idempotent
  });

  it('stop while open: the handle is closed and later faults on it are ignored', async () => {
    await supervise().start();
    const h = sup.handle!;
    await sup.stop();
    expect(h.closed).toBe(true);
    expect(sup.handle).toBeNull();
    sup.lose(h, 'closed by stop');
    expect(device.events).toEqual(['opened 1', 'close 1']);
  });

  it('stop during an open in flight: a handle that arrives afterwards is closed unused; a failure afterwards is not reported', async () => {
    device.holdOpens = true;
    const starting = supervise().start();
    await settle();
    expect(device.attempts).toEqual([0]);
    const stopping = sup.stop();
    const late = device.newHandle();
    device.heldOpens[0].resolve(late);
    await starting;
    await stopping;
    expect(late.closed).toBe(true);
    expect(device.events).toEqual([`close ${late.id}`]);
    expect(sup.handle).toBeNull();
    expect(sup.reopens).toBe(0);
    expect(clock.dueTimes()).toEqual([]);

    device = new ScriptedDevice(clock);
    device.holdOpens = true;
    const again = supervise().start();
    await settle();
    await sup.stop();
    device.heldOpens[0].reject(new Error('EACCES'));
    await again;
    expect(device.events).toEqual([]);
    expect(clock.dueTimes()).toEqual([]);
  });

  it('looks never overlap; a fault during a look is followed by the closed branch with that look', async () => {
    await supervise().start();
    device.holdLooks = true;
    await run(LOOK_OPEN);
    expect(device.heldLooks).toHaveLength(1);
    // Nothing is armed while the look is out, however long it takes.
    expect(clock.dueTimes()).toEqual([]);
    sup.lose(sup.handle!, 'socket error');
    expect(clock.dueTimes()).toEqual([]);
    device.holdLooks = false;
    device.heldLooks[0].resolve({ present: true, token: 1 });
    await settle();
    // The look saw the device there: reopened at once (retry at the next look), then looks resume.
    expect(device.events.slice(-3)).toEqual(['close 1', 'lost 1: socket error', 'opened 2 (reopen)']);
    expect(clock.dueTimes()).toEqual([LOOK_OPEN + LOOK_OPEN]);
  });
});
