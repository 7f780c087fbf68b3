// Commands from the broker onto the bus, through the same doors as any client's frames: the
// TX guard built from --tx-allow (checked against the broker's address), --tx-rate and
// --tx-ids, then the bus's send (its TX queue drops what is older than --tx-max-age, so a
// command is never sent late). Every refusal is counted by reason and logged once per reason.
import type { CommandEncoders, House } from '../ampio/types.js';
import type { TapOrigin } from '../bus/frame-tap.js';
import type { Config } from '../config/options.js';
import type { LogFn } from '../core/log-fn.js';
import type { ServiceBus } from '../daemon/services.js';
import { addressAllowed } from '../guard/address-list.js';
import { TxGuard } from '../guard/tx-guard.js';
import { commandFrames } from './commands.js';
import type { MqttSnapshot } from './snapshot.js';
import { parseCommandTopic } from './topics.js';

/** Frames the bridge itself sends: origin 0, so every client (and the capture) sees them as the bridge's. */
const ORIGIN: TapOrigin = Object.freeze({ session: 0, protocol: 'mqtt' });

export interface CommandHandlerOptions {
  prefix: string;
  buses: readonly ServiceBus[];
  encoders: CommandEncoders | null;
  house: () => House;
  /** The bus a module was last heard on (by name); null = the first bus. */
  busOf: (module: number) => string | null;
  settings: () => Config;
  log: LogFn;
  /** Monotonic ms. */
  now: () => number;
}

export class CommandHandler {
  readonly counts: MqttSnapshot['commands'] = { received: 0, sent: 0, refused: {}, failed: {} };
  private guard: TxGuard;
  private readonly logged = new Set<string>();
  private readOnlyNow = true;

  constructor(private readonly o: CommandHandlerOptions) {
    this.guard = new TxGuard({ readOnly: true, rate: null, ids: [] }, o.now());
  }

  /**
   * The broker connected from `address`: whether commands are allowed comes from --tx-allow
   * (else --allow), as for a client at that address. Returns whether commands are on.
   */
  connectedFrom(address: string | null): boolean {
    const c = this.o.settings();
    const readOnly = this.o.encoders === null || !addressAllowed(c.txAllow ?? c.allow, address ?? undefined);
    this.readOnlyNow = readOnly;
    this.guard.reconfigure({ readOnly, rate: c.txRate, ids: c.txIds }, this.o.now());
    return !readOnly;
  }

  get listenOnly(): boolean {
    return this.readOnlyNow;
  }

  /** One message on a command topic. */
  handle(topic: string, payload: Buffer, retained: boolean): void {
    const target = parseCommandTopic(this.o.prefix, topic);
    // An empty message is someone clearing a retained command, not a command.
    if (!target || payload.length === 0) return;
    this.counts.received++;
    // A retained command is old by definition: it would replay at every (re)connection.
    if (retained) return this.refuse('retained', `${topic}: a retained command is never executed (publish commands without the retain flag)`);
    if (this.readOnlyNow || !this.o.encoders) return this.refuse('read_only', `${topic}: the broker's address is outside --tx-allow; commands are off`);
    let outcome: ReturnType<typeof commandFrames>;
    try {
      outcome = commandFrames(this.o.house(), this.o.encoders, target, payload.toString('utf8'));
    } catch (err) {
      // An encoder refuses an index or value outside its range (a house file naming output 300).
      return this.refuse('not_controllable', `${topic}: ${(err as Error).message}`);
    }
    if (!outcome.ok) return this.refuse(outcome.reason, `${topic}: ${outcome.detail}`);
    const busName = this.o.busOf(target.module);
    const bus = this.o.buses.find((b) => b.name === busName) ?? this.o.buses[0];
    if (!bus) return;
    for (const frame of outcome.frames) {
      const refused = this.guard.check(frame.id, this.o.now());
      if (refused) {
        bus.refuseFromClient(frame, refused.reason, ORIGIN);
        this.refuse(refused.reason, `${topic}: refused by the TX guard (${refused.reason})`);
        continue;
      }
      const r = bus.send(frame, ORIGIN);
      if (r.ok) this.counts.sent++;
      else this.fail(r.reason, `${topic}: the bus refused the frame (${r.reason})`);
    }
  }

  private refuse(reason: string, message: string): void {
    this.counts.refused[reason] = (this.counts.refused[reason] ?? 0) + 1;
    this.logOnce(`refused:${reason}`, 'mqtt_command_refused', reason, message);
  }

  private fail(reason: string, message: string): void {
    this.counts.failed[reason] = (this.counts.failed[reason] ?? 0) + 1;
    this.logOnce(`failed:${reason}`, 'mqtt_command_failed', reason, message);
  }

  private logOnce(key: string, event: string, reason: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.o.log('warn', event, { reason, message: `${message} (further ones are only counted)` });
  }
}
