// The socketcand session state machine against a fake peer and a manual clock.
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, CAN_ERR_BUSOFF, makeFrame } from '../../../../src/core/frame.js';
import { BCM_FRAME_ENCODER, createSocketcand, RAW_FRAME_ENCODER } from '../../../../src/protocols/socketcand/index.js';
import { bytes, FakePeer, ManualTimers, text } from './fakes.js';

function setup(names?: string[]) {
  const timers = new ManualTimers();
  const peer = new FakePeer(names);
  const proto = createSocketcand({ timers, rawHoldMs: 20 });
  const session = proto.open(peer);
  const say = (s: string) => session.receive(bytes(s));
  return { timers, peer, session, say, proto };
}

describe('socketcand session: handshake', () => {
  it('greets with < hi >, opens a bus by name, answers each command with its own reply', () => {
    const { peer, session, say, proto } = setup();
    expect(proto.name).toBe('socketcand');
    expect(proto.layout).toBe('shared');
    expect(text(session.greeting()!)).toBe('< hi >');
    say('< open can1 >');
    expect(peer.isReady).toBe(true);
    say('< rawmode >');
    expect(peer.replies).toEqual(['< ok >', '< ok >']);
  });

  it('socketcandcl sends open and rawmode back to back, split anywhere', () => {
    const { peer, say, timers } = setup();
    for (const ch of '< open can0 >< rawmode >') say(ch);
    expect(peer.replies).toEqual(['< ok >', '< ok >']);
    timers.advance(20);
    expect(peer.joined.has(0)).toBe(true);
  });

  it('unknown bus: < error could not open bus > and the session is rejected', () => {
    const { peer, say } = setup();
    say('< open can9 >');
    expect(peer.replies).toEqual(['< error could not open bus >']);
    expect(peer.rejected).toBe('unknown_bus');
    expect(peer.logs).toContain('socketcand_unknown_bus');
    expect(peer.isReady).toBe(false);
  });

  it('a device path also opens by its last part', () => {
    const { peer, say } = setup(['/dev/ttyUSB0']);
    say('< open ttyUSB0 >');
    expect(peer.replies).toEqual(['< ok >']);
  });

  it('before open: echo answered, unknown command refused without closing, bus config refused', () => {
    const { peer, say } = setup();
    say('< echo ><foo>< can0 B 500000 0 0 0 0 0 0 0 >');
    expect(peer.replies).toEqual(['< echo >', '< error unknown command >', '< error can0 is configured by the bridge, not by clients >']);
    expect(peer.closedWith).toBeNull();
  });

  it('after open: second open and unknown commands → error; ISO-TP refused clearly', () => {
    const { peer, say } = setup();
    say('< open can0 >< open can1 >< frobnicate >< isotpmode >< echo >');
    expect(peer.replies).toEqual([
      '< ok >',
      '< error unknown command >',
      '< error unknown command >',
      '< error ISO-TP mode is not supported by this server >',
      '< echo >',
    ]);
  });

  it('an over-long message is counted as malformed and closes the session', () => {
    const { peer, say } = setup();
    say(`< open can0 >< send ${'1'.repeat(2000)}`);
    expect(peer.malformedCodes).toEqual(['overlong']);
    expect(peer.closedWith).toBe('malformed');
  });

  it('garbage between messages is counted, not fatal', () => {
    const { peer, say } = setup();
    say('hello< open can0 >');
    expect(peer.malformedCodes).toEqual(['garbage']);
    expect(peer.replies).toEqual(['< ok >']);
  });
});

describe('RAW mode', () => {
  it('frames flow only after the rawmode < ok > had time to be read alone', () => {
    const { peer, say, timers } = setup();
    say('< open can0 >< rawmode >');
    expect(peer.joined.size).toBe(0);
    timers.advance(19);
    expect(peer.joined.size).toBe(0);
    timers.advance(1);
    const f = makeFrame({ id: 0x123, data: [1, 2], timestamp: 1000 });
    expect(peer.deliver(0, f, RAW_FRAME_ENCODER)).toBe(' < frame 123 1.000000 0102 >');
  });

  it('error frames (which the bus forwards only with --forward-errors) in upstream form', () => {
    const err = makeFrame({ id: CAN_ERR_BUSOFF, error: true, data: new Array(8).fill(0), timestamp: 2000 });
    const { peer, say, timers } = setup();
    say('< open can0 >< rawmode >');
    timers.advance(20);
    expect(peer.deliver(0, err, RAW_FRAME_ENCODER)).toBe(' < error 040 2.000000 >');
  });

  it('send puts the parsed frame on the opened bus; bad sends are counted, not answered', () => {
    const { peer, say } = setup();
    say('< open can1 >< rawmode >< send 123 3 1 a ff >< send 1ABCDEF0 0 >< send 7DF 8  >< send 123 9 >');
    expect(peer.sent.map((s) => [s.bus, s.frame.id >>> 0, Array.from(s.frame.data)])).toEqual([
      [1, 0x123, [1, 10, 255]],
      [1, (0x1abcdef0 | CAN_EFF_FLAG) >>> 0, []],
    ]);
    expect(peer.malformedCodes).toEqual(['send_short_data', 'send_bad_dlc']);
    expect(peer.replies).toEqual(['< ok >', '< ok >']);
  });

  it('leaving RAW mode leaves the bus; the session end leaves everything', () => {
    const { peer, say, timers, session } = setup();
    say('< open can0 >< rawmode >');
    timers.advance(20);
    say('< bcmmode >');
    expect(peer.joined.size).toBe(0);
    say('< rawmode >');
    session.closed?.('client_closed');
    timers.advance(100);
    expect(peer.joined.size).toBe(0);
    expect(timers.active).toBe(0);
  });
});

describe('BCM mode', () => {
  it('nothing arrives until subscribe; frames then in BCM form; unsubscribe stops them', () => {
    const { peer, say } = setup();
    say('< open can0 >');
    expect(peer.joined.size).toBe(0);
    say('< subscribe 0 0 321 >');
    const f = makeFrame({ id: 0x321, data: [0xaa, 0xbb], timestamp: 1000 });
    expect(peer.deliver(0, f, RAW_FRAME_ENCODER)).toBe('< frame 321 1.000000 AA BB  >');
    expect(peer.deliver(0, makeFrame({ id: 0x322, data: [1], timestamp: 1000 }), RAW_FRAME_ENCODER)).toBeNull();
    expect(peer.deliver(0, makeFrame({ id: 0x321, extended: true, data: [1], timestamp: 1000 }), RAW_FRAME_ENCODER)).toBeNull();
    say('< unsubscribe 321 >');
    expect(peer.joined.size).toBe(0);
  });

  it('subscribe with an interval throttles to one frame per interval, delivering the latest later', () => {
    const { peer, say, timers } = setup();
    say('< open can0 >< subscribe 0 100000 00000123 >');
    const f = (b: number) => makeFrame({ id: 0x123, extended: true, data: [b], timestamp: 1000 + b });
    expect(peer.deliver(0, f(1), BCM_FRAME_ENCODER)).not.toBeNull();
    timers.advance(10);
    expect(peer.deliver(0, f(2), BCM_FRAME_ENCODER)).toBeNull();
    expect(peer.deliver(0, f(3), BCM_FRAME_ENCODER)).toBeNull();
    expect(peer.replies).toEqual(['< ok >']);
    timers.advance(90);
    expect(peer.replies).toEqual(['< ok >', '< frame 00000123 1.003000 03  >']);
    timers.advance(100);
    expect(peer.deliver(0, f(4), BCM_FRAME_ENCODER)).not.toBeNull();
  });

  it('filter delivers a frame only when masked content changes (first always)', () => {
    const { peer, say } = setup();
    say('< open can0 >< filter 0 0 200 2 ff 0f >');
    const f = (a: number, b: number, c = 0) => makeFrame({ id: 0x200, data: [a, b, c], timestamp: 1000 });
    const got = [f(1, 1), f(1, 1), f(1, 0x11), f(1, 0x12, 9), f(2, 0x12), f(2, 0x12, 7)].map((x) => peer.deliver(0, x, BCM_FRAME_ENCODER) !== null);
    expect(got).toEqual([true, false, false, true, true, false]);
  });

  it('add sends at once and then every period on the grid, update changes data, delete stops', () => {
    const { peer, say, timers } = setup();
    say('< open can1 >< add 0 20000 123 4 42 42 42 42 >');
    expect(peer.sent).toHaveLength(1);
    timers.advance(100);
    expect(peer.sent).toHaveLength(6);
    expect(peer.sent.every((s) => s.bus === 1)).toBe(true);
    // One fresh frame per tick (the bus stamps the send time into the frame).
    expect(new Set(peer.sent.map((s) => s.frame)).size).toBe(6);
    say('< update 123 1 01 >');
    timers.advance(20);
    expect(Array.from(peer.sent[6].frame.data)).toEqual([1]);
    say('< delete 123 >');
    timers.advance(200);
    expect(peer.sent).toHaveLength(7);
    expect(timers.active).toBe(0);
  });

  it('add with period 0 sends once; add on a running id restarts it; cyclic jobs end with the session', () => {
    const { peer, say, timers, session } = setup();
    say('< open can0 >< add 0 0 5 0 >');
    timers.advance(1000);
    expect(peer.sent).toHaveLength(1);
    say('< add 1 0 456 2 de ad >');
    timers.advance(500);
    say('< add 0 100000 456 2 be ef >');
    timers.advance(250);
    expect(peer.sent.map((s) => Array.from(s.frame.data))).toEqual([[], [0xde, 0xad], [0xbe, 0xef], [0xbe, 0xef], [0xbe, 0xef]]);
    session.closed?.('client_closed');
    timers.advance(10_000);
    expect(peer.sent).toHaveLength(5);
  });

  it('re-entering the current mode answers < ok > and keeps jobs and filters', () => {
    const { peer, say, timers } = setup();
    say('< open can0 >< add 0 10000 1 0 >< subscribe 0 0 2 >< bcmmode >');
    timers.advance(100);
    expect(peer.replies).toEqual(['< ok >', '< ok >']);
    expect(peer.sent).toHaveLength(11);
    expect(peer.joined.has(0)).toBe(true);
  });

  it('leaving BCM mode ends its jobs and filters (upstream closes its BCM socket)', () => {
    const { peer, say, timers } = setup();
    say('< open can0 >< add 0 10000 1 0 >< subscribe 0 0 2 >< rawmode >');
    timers.advance(100);
    expect(peer.sent).toHaveLength(1);
    expect(peer.joined.get(0)?.encoder).toBe(RAW_FRAME_ENCODER);
  });

  it('BCM send, muxfilter refused, syntax errors counted', () => {
    const { peer, say } = setup();
    say('< open can0 >< send 1 1 ff >< muxfilter 0 0 1 2 >< add 0 x 1 0 >< subscribe 1 >< delete >');
    expect(peer.sent).toHaveLength(1);
    expect(peer.replies).toEqual(['< ok >', '< error muxfilter is not supported by this server >']);
    expect(peer.malformedCodes).toEqual(['add_syntax', 'subscribe_syntax', 'delete_syntax']);
  });
});

describe('CONTROL mode', () => {
  it('statistics every MS (at least 100 ms), no reply to the command itself, 0 stops', () => {
    const { peer, say, timers } = setup();
    Object.assign(peer.buses[0], { rxBytes: 40, rxFrames: 5, txBytes: 8, txFrames: 1 });
    say('< open can0 >< controlmode >< statistics 10 >');
    expect(peer.replies).toEqual(['< ok >', '< ok >']);
    timers.advance(99);
    expect(peer.replies).toHaveLength(2);
    timers.advance(1);
    expect(peer.replies[2]).toBe('< stat 40 5 8 1 >');
    timers.advance(200);
    expect(peer.replies).toHaveLength(5);
    say('< statistics 0 >');
    timers.advance(1000);
    expect(peer.replies).toHaveLength(5);
    say('< statistics 500 >< bcmmode >');
    timers.advance(1000);
    expect(peer.replies.at(-1)).toBe('< ok >');
  });
});
