// Which GVRET client a session talks to, from its first messages. Pure.
//
// It matters because SavvyCAN's parser cannot take every frame the bus carries (it drops a
// zero-length frame and eats the next byte; it never finishes an `F1 14` FD frame), while every
// other client can. SavvyCAN is recognised by its connect burst, which it sends in one write:
// `E7 E7 F1 0C F1 06 F1 07 F1 01 F1 09` (collin80/SavvyCAN connections/gvretserial.cpp).
// WireTAP's desktop sends `E7 E7`, 100 ms later `F1 07`; its probe `E7 E7`, 50 ms later
// `F1 0C` (Wired-Square/WireTAP src-tauri/src/io/gvret/tcp.rs).
import { Cmd } from './codec.js';
import type { GvretEvent } from './decoder.js';

export type GvretClientKind = 'unknown' | 'savvycan' | 'wiretap' | 'other';

/** SavvyCAN's connect burst, as decoder events. */
const SAVVYCAN_BURST: readonly string[] = ['mode', 'mode', 'cmd:12', 'cmd:6', 'cmd:7', 'cmd:1', 'cmd:9'];

/**
 * How long after the first `E7` a session may stay undecided. SavvyCAN's burst comes in one
 * write, so it is complete at once; a client that has not deviated from it by then (a silent
 * listener, WireTAP's probe after its `F1 0C`) is not SavvyCAN. It covers WireTAP's 100 ms
 * pause before `F1 07` on a slow, busy client.
 */
export const IDENTIFY_MS = 250;

/** Follows a session's first events against SavvyCAN's burst. */
export class ClientKindMatcher {
  private step = 0;
  kind: GvretClientKind = 'unknown';

  /** Feeds the next event; returns the kind once it is decided by this event, else null. */
  feed(e: GvretEvent): GvretClientKind | null {
    if (this.kind !== 'unknown') return null;
    const token = e.type === 'mode' ? 'mode' : e.type === 'command' ? `cmd:${e.cmd}` : e.type;
    if (token === SAVVYCAN_BURST[this.step]) {
      if (++this.step < SAVVYCAN_BURST.length) return null;
      return (this.kind = 'savvycan');
    }
    // WireTAP's desktop connects with `E7 E7`, then `F1 07` alone.
    return (this.kind = this.step === 2 && token === `cmd:${Cmd.GetDeviceInfo}` ? 'wiretap' : 'other');
  }

  /** The identification window ran out undecided: whatever it is, it is not SavvyCAN. */
  timeout(): GvretClientKind {
    if (this.kind === 'unknown') this.kind = 'other';
    return this.kind;
  }
}
