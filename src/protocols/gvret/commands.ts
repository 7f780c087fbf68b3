// GVRET commands a client sends besides frames: the replies the bridge gives (exact firmware
// lengths, see codec.ts) and the settings it accepts and ignores, counted and logged once per
// session. Split from session.ts, which decides what the client gets.
import type { SessionPeer } from '../types.js';
import { busParamsReply, Cmd, DEVICE_INFO_REPLY, extBusesReply, KEEPALIVE_REPLY, numBusesReply, readU32, requestedBitrate, timeSyncReply } from './codec.js';

export const hexCmd = (cmd: number): string => cmd.toString(16).toUpperCase().padStart(2, '0');

export class GvretCommands {
  /** Commands accepted and ignored, by command byte. */
  readonly ignored = new Map<number, number>();

  constructor(private readonly peer: Pick<SessionPeer, 'buses' | 'wallClock' | 'log'>) {}

  /** The reply to a command without arguments, or null when the bridge does not answer it. */
  reply(cmd: number): Uint8Array | null {
    const peer = this.peer;
    switch (cmd) {
      case Cmd.Keepalive:
        return KEEPALIVE_REPLY;
      case Cmd.TimeSync:
        return timeSyncReply(peer.wallClock());
      case Cmd.GetCanbusParams:
        return busParamsReply(peer.buses);
      case Cmd.GetDeviceInfo:
        return DEVICE_INFO_REPLY;
      case Cmd.GetNumBuses:
        return numBusesReply(peer.buses.length);
      case Cmd.GetExtBuses:
        return extBusesReply(peer.buses);
      default:
        // Digital/analog inputs: the bridge has no I/O pins. Never answer F1 03: SavvyCAN's
        // parser does not return to idle after one.
        this.count(cmd, 'the bridge has no digital or analog I/O pins; not answered');
        return null;
    }
  }

  /** A setting command: accepted, never applied. */
  setting(cmd: number, args: Uint8Array): void {
    if (cmd === Cmd.SetupCanbus) {
      const [a, b] = [requestedBitrate(readU32(args, 0)), requestedBitrate(readU32(args, 4))];
      this.count(
        cmd,
        "bus settings from clients are ignored: the bridge never changes a bitrate on a client's word; set bitrates on the bridge (--bitrate, setup)",
        {
          requested: `bus0 ${a.bitrate} bit/s ${a.enabled ? 'on' : 'off'}, bus1 ${b.bitrate} bit/s ${b.enabled ? 'on' : 'off'}`,
        },
      );
    } else if (cmd === Cmd.SetExtBuses) {
      this.count(cmd, "single-wire/LIN settings from clients are ignored: the bridge has none and never changes a bus on a client's word");
    } else {
      this.count(cmd, 'output, single-wire and system-type settings are ignored: the bridge has no such hardware');
    }
  }

  /** Ignored commands for the session's summary log, `F1 xx` → count. */
  summary(): Record<string, number> {
    return Object.fromEntries([...this.ignored].map(([cmd, n]) => [hexCmd(cmd), n]));
  }

  /** Counts an ignored command; the first of each kind per session is logged. */
  private count(cmd: number, note: string, fields: Record<string, unknown> = {}): void {
    const n = (this.ignored.get(cmd) ?? 0) + 1;
    this.ignored.set(cmd, n);
    if (n === 1) this.peer.log('info', 'gvret_command_ignored', { command: `F1 ${hexCmd(cmd)}`, note, ...fields });
  }
}
