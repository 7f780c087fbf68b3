// One socketcand connection: `< hi >`, then `< open BUS >` picks the bus (mode BCM), then the
// client may switch between BCM, RAW and CONTROL mode. Every effect goes through the
// SessionPeer; timers come in through `Timers`, so the whole state machine runs in unit
// tests without a socket or a clock.
import type { CloseReason, FrameEncoder, ProtocolSession, SessionPeer } from '../types.js';
import { CyclicJobs, RxFilters, type Timers } from './bcm.js';
import { formatStat, HI, parseCanId, parseFrameArgs, parseInterval, parseUnsigned } from './codec.js';
import { MessageTokenizer, type TokenizerEvent } from './tokenizer.js';

export interface SessionDeps {
  raw: FrameEncoder;
  bcm: FrameEncoder;
  timers: Timers;
  /**
   * ms between the rawmode `< ok >` and the first frame. python-can 4.1 reads that reply
   * with one recv() and fails the handshake if a frame arrives in the same read.
   */
  rawHoldMs: number;
}

/** Upstream sends statistics as often as every 10 ms; we bound the interval at 100 ms. */
export const MIN_STATISTICS_MS = 100;

type Mode = 'nobus' | 'bcm' | 'raw' | 'control';

const OK = '< ok >';
const MODES: Record<string, Mode> = { bcmmode: 'bcm', rawmode: 'raw', controlmode: 'control' };

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** `can0` matches `can0`; a device path also matches its last part (`ttyUSB0`). */
export function findBus(names: readonly string[], wanted: string): number {
  const exact = names.indexOf(wanted);
  if (exact >= 0) return exact;
  return names.findIndex((n) => n.includes('/') && n.split('/').pop() === wanted);
}

export class SocketcandSession implements ProtocolSession {
  private readonly tokenizer = new MessageTokenizer();
  private mode: Mode = 'nobus';
  private bus = -1;
  private finished = false;
  private readonly jobs: CyclicJobs;
  private readonly rx: RxFilters;
  private rxJoined = false;
  private rawJoinTimer: unknown = null;
  private statsTimer: unknown = null;

  constructor(
    private readonly peer: SessionPeer,
    private readonly deps: SessionDeps,
  ) {
    this.jobs = new CyclicJobs(deps.timers, (frame) => {
      if (this.bus >= 0) this.peer.send(this.bus, frame);
    });
    this.rx = new RxFilters(deps.timers, (frame) => {
      const bytes = this.deps.bcm.encode(frame, this.bus);
      if (bytes) this.peer.reply(bytes);
    });
  }

  greeting(): Uint8Array {
    return bytesOf(HI);
  }

  receive(chunk: Uint8Array): void {
    for (const event of this.tokenizer.push(chunk)) {
      if (this.finished) return;
      this.handle(event);
    }
  }

  closed(_reason: CloseReason): void {
    this.finished = true;
    this.leaveMode();
  }

  private handle(event: TokenizerEvent): void {
    switch (event.kind) {
      case 'message':
        if (event.words.length === 0) this.peer.malformed('empty_message', '< > has no command');
        else this.command(event.words[0].toLowerCase(), event.words, event.text);
        return;
      case 'garbage':
        this.peer.malformed('garbage', `${event.bytes} byte(s) outside < >`);
        return;
      case 'unterminated':
        this.peer.malformed('unterminated', `"<${event.text.slice(0, 60)}" has no closing >`);
        return;
      case 'overlong':
        this.peer.malformed('overlong', `a message longer than ${event.length - 1} bytes`);
        this.end('malformed');
    }
  }

  private reply(text: string): void {
    this.peer.reply(bytesOf(text));
  }

  private end(reason: CloseReason): void {
    this.finished = true;
    this.leaveMode();
    this.peer.close(reason);
  }

  private command(cmd: string, words: string[], text: string): void {
    if (cmd === 'echo' && words.length === 1) return this.reply('< echo >');
    if (this.mode === 'nobus') return this.beforeOpen(cmd, words, text);
    const next = MODES[cmd];
    // The mode it is already in: upstream answers `< error unknown command >`; a plain
    // `< ok >` (jobs and filters kept) serves a client that re-sends its setup better.
    if (next !== undefined && words.length === 1) return next === this.mode ? this.reply(OK) : this.switchMode(next);
    if (cmd === 'isotpmode') return this.reply('< error ISO-TP mode is not supported by this server >');
    if (this.mode === 'bcm') return this.bcmCommand(cmd, words);
    if (this.mode === 'raw' && cmd === 'send') return this.send(words, 1);
    if (this.mode === 'control' && cmd === 'statistics') return this.statistics(words);
    this.unknown(text);
  }

  private unknown(text: string): void {
    this.peer.log('debug', 'socketcand_unknown_command', { mode: this.mode, command: text.trim().slice(0, 80) });
    this.reply('< error unknown command >');
  }

  private beforeOpen(cmd: string, words: string[], text: string): void {
    const names = this.peer.buses.map((b) => b.name);
    if (cmd === 'open' && words.length === 2) {
      const bus = findBus(names, words[1]);
      if (bus < 0) {
        // As upstream: the error, then the connection closes.
        this.reply('< error could not open bus >');
        this.finished = true;
        this.peer.log('info', 'socketcand_unknown_bus', { requested: words[1].slice(0, 40), served: names.join(',') });
        this.peer.reject('unknown_bus', bytesOf(`<${text}>`));
        return;
      }
      if (!this.peer.ready()) return;
      this.bus = bus;
      this.mode = 'bcm';
      this.reply(OK);
      return;
    }
    // `< can0 B … >` / `< can0 C … >` set bit timing and control modes upstream. The bridge
    // owns its buses' settings (they are shared by every client), so that is refused here.
    if (words.length >= 2 && (words[1] === 'B' || words[1] === 'C') && findBus(names, words[0]) >= 0) {
      return this.reply(`< error ${words[0]} is configured by the bridge, not by clients >`);
    }
    this.unknown(text);
  }

  private switchMode(next: Mode): void {
    this.leaveMode();
    this.mode = next;
    this.reply(OK);
    if (next === 'raw') {
      this.rawJoinTimer = this.deps.timers.setTimeout(() => {
        this.rawJoinTimer = null;
        if (this.finished || this.mode !== 'raw') return;
        // Error frames reach sessions only with --forward-errors (the bus decides).
        this.peer.join(this.bus, { encoder: this.deps.raw });
      }, this.deps.rawHoldMs);
    }
  }

  /** Undoes the current mode. Leaving BCM ends its cyclic jobs and filters, as upstream (it closes its BCM socket). */
  private leaveMode(): void {
    if (this.rawJoinTimer !== null) this.deps.timers.clearTimeout(this.rawJoinTimer);
    this.rawJoinTimer = null;
    if (this.statsTimer !== null) this.deps.timers.clearTimeout(this.statsTimer);
    this.statsTimer = null;
    this.jobs.clear();
    this.rx.clear();
    if (this.bus >= 0 && (this.mode === 'raw' || this.rxJoined)) this.peer.leave(this.bus);
    this.rxJoined = false;
  }

  private send(words: string[], from: number): void {
    const parsed = parseFrameArgs(words, from);
    if (!parsed.ok) return this.peer.malformed(`send_${parsed.code}`, parsed.detail);
    this.peer.send(this.bus, parsed.value);
  }

  private bcmCommand(cmd: string, words: string[]): void {
    switch (cmd) {
      case 'send':
        return this.send(words, 1);
      case 'add': {
        const period = parseInterval(words, 1);
        const frame = parseFrameArgs(words, 3);
        if (!period.ok) return this.peer.malformed('add_syntax', period.detail);
        if (!frame.ok) return this.peer.malformed(`add_${frame.code}`, frame.detail);
        if (!this.jobs.add(frame.value, period.value)) this.reply('< error too many cyclic jobs on this connection >');
        return;
      }
      case 'update': {
        const frame = parseFrameArgs(words, 1);
        if (!frame.ok) return this.peer.malformed(`update_${frame.code}`, frame.detail);
        if (!this.jobs.update(frame.value)) this.peer.log('debug', 'socketcand_update_without_job', { can_id: frame.value.id });
        return;
      }
      case 'delete': {
        const id = words.length === 2 ? parseCanId(words[1]) : null;
        if (id === null) return this.peer.malformed('delete_syntax', 'expected < delete ID >');
        this.jobs.delete(id);
        return;
      }
      case 'subscribe': {
        const ival = parseInterval(words, 1);
        const id = words.length === 4 ? parseCanId(words[3]) : null;
        if (!ival.ok || id === null) return this.peer.malformed('subscribe_syntax', 'expected < subscribe SEC USEC ID >');
        return this.setRx(id, ival.value, null);
      }
      case 'filter': {
        const ival = parseInterval(words, 1);
        const frame = parseFrameArgs(words, 3);
        if (!ival.ok) return this.peer.malformed('filter_syntax', ival.detail);
        if (!frame.ok) return this.peer.malformed(`filter_${frame.code}`, frame.detail);
        return this.setRx(frame.value.id, ival.value, frame.value.data);
      }
      case 'unsubscribe': {
        const id = words.length === 2 ? parseCanId(words[1]) : null;
        if (id === null) return this.peer.malformed('unsubscribe_syntax', 'expected < unsubscribe ID >');
        this.rx.delete(id);
        if (this.rx.size === 0 && this.rxJoined) {
          this.rxJoined = false;
          this.peer.leave(this.bus);
        }
        return;
      }
      case 'muxfilter':
        return this.reply('< error muxfilter is not supported by this server >');
      default:
        this.unknown(words.join(' '));
    }
  }

  private setRx(canId: number, throttleUs: number, mask: Uint8Array | null): void {
    if (!this.rx.set(canId, throttleUs, mask)) return this.reply('< error too many filters on this connection >');
    if (!this.rxJoined) {
      this.rxJoined = true;
      this.peer.join(this.bus, { encoder: this.deps.bcm, filter: (f) => this.rx.accept(f) });
    }
  }

  private statistics(words: string[]): void {
    const ms = words.length === 2 ? parseUnsigned(words[1]) : null;
    if (ms === null) return this.peer.malformed('statistics_syntax', 'expected < statistics MILLISECONDS >');
    if (this.statsTimer !== null) this.deps.timers.clearTimeout(this.statsTimer);
    this.statsTimer = null;
    if (ms === 0) return; // 0 turns statistics off, as upstream
    const every = Math.max(MIN_STATISTICS_MS, ms);
    const tick = (): void => {
      this.statsTimer = this.deps.timers.setTimeout(() => {
        if (this.finished || this.mode !== 'control') return;
        // Upstream reads the interface's /proc/net/dev counters; ours are the bus's own.
        const b = this.peer.buses[this.bus];
        this.peer.reply(formatStat({ rxBytes: b.rxBytes ?? 0, rxFrames: b.rxFrames ?? 0, txBytes: b.txBytes ?? 0, txFrames: b.txFrames ?? 0 }));
        tick();
      }, every);
    };
    tick();
  }
}
