import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, makeFrame } from '../../../../src/core/frame.js';
import { createGvretProtocol, gvret } from '../../../../src/protocols/gvret/index.js';
import { FakeSessionPeer } from '../../../support/fake-session-peer.js';
import { ManualTimers } from '../socketcand/fakes.js';

const hex = (s: string): number[] =>
  s
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
const toHex = (b: Uint8Array | null): string => (b ? Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ') : 'null');

const SAVVYCAN_BURST = 'E7 E7 F1 0C F1 06 F1 07 F1 01 F1 09';
const data8 = makeFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8], timestamp: 1 });
const empty = makeFrame({ id: 0x7f, timestamp: 1 });
const remote = makeFrame({ id: 0x55, rtr: true, len: 4, timestamp: 1 });
const fd12 = makeFrame({ id: 0x200, fd: true, data: new Array(12).fill(0xab), timestamp: 1 });

describe('GVRET session: SavvyCAN', () => {
  it('answers the connect burst with exact replies in one write, in command order', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.wall = 0x0001e240 / 1000;
    peer.input(hex(SAVVYCAN_BURST));
    expect(peer.readyCalls).toBe(1);
    expect(peer.replies.length).toBe(1);
    expect(peer.replyHex()).toBe(['F1 0C 02', 'F1 06 01 20 A1 07 00 01 90 D0 03 00', 'F1 07 90 01 01 00 00 00', 'F1 01 40 E2 01 00', 'F1 09 DE AD'].join(' '));
    expect(peer.logs.find((l) => l.event === 'gvret_client_identified')?.fields?.client).toBe('savvycan');
  });

  it('joins both buses once in binary mode; F1 0D gets the full 15 bytes', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex(SAVVYCAN_BURST));
    expect([...peer.joined.keys()]).toEqual([0, 1]);
    peer.replies.length = 0;
    peer.input(hex('F1 0D'));
    expect(peer.replyHex()).toBe('F1 0D 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  });

  it('withholds zero-length, RTR and FD frames, counting them, and sends the rest with bus numbers', () => {
    const fdProto = createGvretProtocol({ fd: 'esp32ret' });
    const peer = FakeSessionPeer.open(fdProto, [{ bitrate: 500_000 }, { bitrate: 500_000, fd: true }]);
    peer.input(hex(SAVVYCAN_BURST));
    expect(peer.deliver(empty, 0, fdProto.encoder)).toBeNull();
    expect(peer.deliver(remote, 1, fdProto.encoder)).toBeNull();
    expect(peer.deliver(fd12, 1, fdProto.encoder)).toBeNull();
    expect(toHex(peer.deliver(data8, 1, fdProto.encoder))).toBe('F1 00 E8 03 00 00 23 01 00 00 18 01 02 03 04 05 06 07 08 00');
    const session = peer.session as unknown as { withheld: Record<string, number> };
    expect(session.withheld).toEqual({ zero_length: 1, rtr: 1, fd: 1 });
    // Counted at the server too (status, metrics), with the bus: nothing is withheld silently.
    expect(peer.withheldCalls).toEqual(['0:zero_length', '1:rtr', '1:fd']);
    peer.session.closed?.('client_closed');
    expect(peer.logs.find((l) => l.event === 'gvret_session_summary')?.fields).toMatchObject({ withheld_zero_length: 1, withheld_rtr: 1, withheld_fd: 1 });
  });

  it('keepalives are answered one by one, however they arrive', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex(SAVVYCAN_BURST));
    peer.replies.length = 0;
    peer.input(hex('F1'));
    expect(peer.replies).toEqual([]);
    peer.input(hex('09 F1 09'));
    expect(peer.replyHex()).toBe('F1 09 DE AD F1 09 DE AD');
  });

  it('TX frames go to the bus their bus byte names, with the trailer skipped', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex(SAVVYCAN_BURST));
    peer.input(hex('F1 00 DF 07 00 00 01 03 02 01 0D 00 F1 00 10 F1 DA 98 00 01 55 00'));
    expect(peer.sent.map((s) => [s.bus, s.frame.id >>> 0, Array.from(s.frame.data)])).toEqual([
      [1, 0x7df, [2, 1, 0x0d]],
      [0, (CAN_EFF_FLAG | 0x18daf110) >>> 0, [0x55]],
    ]);
    expect(peer.malformedCalls).toEqual([]);
  });

  it('F1 05 and F1 0E are accepted, ignored, counted and logged once per session', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex(SAVVYCAN_BURST));
    peer.input(hex('F1 05 20 A1 07 C0 20 A1 07 80 00 F1 05 20 A1 07 C0 20 A1 07 80 00 F1 0E 00 00 00 00 00 00 00 00 00 00 00 00 00'));
    const logged = peer.logs.filter((l) => l.event === 'gvret_command_ignored');
    expect(logged.map((l) => l.fields?.command)).toEqual(['F1 05', 'F1 0E']);
    expect(logged[0].fields?.requested).toBe('bus0 500000 bit/s on, bus1 500000 bit/s off');
    const session = peer.session as unknown as { ignored: Map<number, number> };
    expect([...session.ignored]).toEqual([
      [5, 2],
      [0x0e, 1],
    ]);
    expect(peer.sent).toEqual([]);
  });
});

describe('GVRET session: WireTAP and other clients', () => {
  it("WireTAP's E7 E7, F1 07 gets device info and the full stream, zero-length frames included", () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 E7'));
    expect([...peer.joined.keys()]).toEqual([0, 1]);
    peer.input(hex('F1 07'));
    expect(peer.replyHex()).toBe('F1 07 90 01 01 00 00 00');
    expect(peer.logs.find((l) => l.event === 'gvret_client_identified')?.fields?.client).toBe('wiretap');
    expect(toHex(peer.deliver(empty, 1, gvret.encoder))).toBe('F1 00 E8 03 00 00 7F 00 00 00 10 00');
  });

  it("with fd 'wiretap', FD frames reach a WireTAP session with the DLC code", () => {
    const proto = createGvretProtocol({ fd: 'wiretap' });
    const peer = FakeSessionPeer.open(proto, [{ fd: true }]);
    peer.input(hex('E7 E7 F1 07'));
    expect(peer.deliver(fd12, 0, proto.encoder)?.[10]).toBe(0x09);
  });

  it('WireTAP TX without a trailer is acted on at once; a bus that does not exist is refused and counted', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 E7 F1 07'));
    peer.input(hex('F1 00 23 01 00 00 00 04 AA BB CC DD'));
    expect(peer.sent.length).toBe(1);
    peer.input(hex('F1 00 23 01 00 00 05 01 AA'));
    expect(peer.sent.length).toBe(1);
    expect(peer.malformedCalls.map((m) => m.code)).toEqual(['gvret_unknown_bus']);
  });

  it('an FD frame for a classic bus is refused', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input([0xe7, 0xf1, 0, 0x23, 1, 0, 0, 0, 12, ...new Array(12).fill(1)]);
    expect(peer.sent).toEqual([]);
    expect(peer.malformedCalls.map((m) => m.code)).toEqual(['gvret_fd_on_classic_bus']);
  });

  it('F1 0B echoes the frame back to this client only', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.wall = 5 / 1000;
    peer.input(hex('E7 F1 07 F1 0B 23 01 00 00 01 01 42 00'));
    expect(peer.sent).toEqual([]);
    expect(peer.replyHex()).toBe('F1 07 90 01 01 00 00 00 F1 00 05 00 00 00 23 01 00 00 11 42 00');
  });

  it('commands before E7 are answered, but frames start only with binary mode', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('F1 0C'));
    expect(peer.replyHex()).toBe('F1 0C 02');
    expect(peer.joined.size).toBe(0);
    peer.input(hex('E7'));
    expect(peer.joined.size).toBe(2);
  });

  it('F1 02 and F1 03 are never answered (SavvyCAN would not return to idle after F1 03); unknown commands are malformed', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 F1 02 F1 03 F1 16'));
    expect(peer.replies).toEqual([]);
    expect(peer.malformedCalls.map((m) => m.code)).toEqual(['gvret_unknown_command']);
  });

  it('a client that sends no GVRET at all is refused after 64 bytes, with what it sent', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(Buffer.from('CANNELLONIv1'));
    expect(peer.rejected).toBeNull();
    peer.input(Buffer.alloc(60, 0x41));
    expect(peer.rejected?.reason).toMatch(/this port speaks GVRET/);
    expect(Buffer.from(peer.rejected!.received).subarray(0, 12).toString()).toBe('CANNELLONIv1');
    expect(peer.readyCalls).toBe(0);
  });

  it('stops at once when the server refuses the session', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.refuseReady = true;
    peer.input(hex(SAVVYCAN_BURST));
    expect(peer.readyCalls).toBe(1);
    expect(peer.replies).toEqual([]);
    expect(peer.joined.size).toBe(0);
  });

  it('input that is not GVRET after the start (256 unusable bytes in a row) closes the session as malformed, once', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 E7 F1 07'));
    peer.input(new Array(200).fill(0));
    expect(peer.closedWith).toBeNull();
    peer.input(new Array(56).fill(0x41));
    expect(peer.closedWith).toBe('malformed');
    expect(peer.malformedCalls.map((m) => m.code)).toEqual(['gvret_not_gvret']);
  });

  it("SavvyCAN's trailers and keepalives never add up to that", () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex(SAVVYCAN_BURST));
    for (let k = 0; k < 2000; k++) peer.input(k % 10 === 0 ? hex('F1 09') : hex('F1 00 23 01 00 00 00 01 42 00'));
    expect(peer.closedWith).toBeNull();
    expect(peer.sent.length).toBe(1800);
  });
});

describe('GVRET session: the client kind is decided within a window after E7, frames held meanwhile', () => {
  const withTimers = (options: { fd?: 'off' | 'esp32ret' | 'wiretap' } = {}) => {
    const timers = new ManualTimers();
    const proto = createGvretProtocol({ ...options, timers, identifyMs: 250 });
    return { timers, proto };
  };

  it('SavvyCAN: decided by its burst in the same read; the hold ends after its replies', () => {
    const { timers, proto } = withTimers();
    const peer = FakeSessionPeer.open(proto);
    peer.input(hex(SAVVYCAN_BURST));
    expect(peer.holds).toEqual([true, false]);
    expect(timers.active).toBe(0);
    expect((peer.session as unknown as { kind(): string }).kind()).toBe('savvycan');
  });

  it('a listen-only E7 E7 client: held and undecided for the window (what it cannot take yet is counted), then "other" and everything', () => {
    const { timers, proto } = withTimers({ fd: 'esp32ret' });
    const peer = FakeSessionPeer.open(proto, [{ bitrate: 500_000 }, { bitrate: 500_000, fd: true }]);
    peer.input(hex('E7 E7'));
    expect(peer.held).toBe(true);
    expect(peer.deliver(empty, 0, proto.encoder)).toBeNull();
    expect(peer.withheldCalls).toEqual(['0:zero_length']);
    timers.advance(249);
    expect(peer.held).toBe(true);
    timers.advance(1);
    expect(peer.held).toBe(false);
    expect(peer.logs.find((l) => l.event === 'gvret_client_identified')?.fields).toMatchObject({
      client: 'other',
      by: 'no SavvyCAN connect burst within 250 ms of E7',
    });
    expect(toHex(peer.deliver(empty, 0, proto.encoder))).toBe('F1 00 E8 03 00 00 7F 00 00 00 00 00');
    expect(peer.deliver(remote, 1, proto.encoder)).not.toBeNull();
    expect(peer.deliver(fd12, 1, proto.encoder)?.[1]).toBe(0x14);
    expect(peer.withheldCalls).toEqual(['0:zero_length']);
  });

  it("WireTAP's probe (E7 E7, F1 0C): the reply goes out while frames stay held; the window ends the hold", () => {
    const { timers, proto } = withTimers();
    const peer = FakeSessionPeer.open(proto);
    peer.input(hex('E7 E7'));
    peer.input(hex('F1 0C'));
    expect(peer.replyHex()).toBe('F1 0C 02');
    expect(peer.held).toBe(true);
    timers.advance(250);
    expect(peer.holds).toEqual([true, false]);
  });

  it("WireTAP's desktop (E7 E7, 100 ms, F1 07): decided at F1 07, hold ended, timer gone", () => {
    const { timers, proto } = withTimers();
    const peer = FakeSessionPeer.open(proto);
    peer.input(hex('E7 E7'));
    timers.advance(100);
    peer.input(hex('F1 07'));
    expect(peer.holds).toEqual([true, false]);
    expect(timers.active).toBe(0);
    expect(peer.logs.find((l) => l.event === 'gvret_client_identified')?.fields?.client).toBe('wiretap');
  });

  it('a session closed inside the window leaves no timer behind', () => {
    const { timers, proto } = withTimers();
    const peer = FakeSessionPeer.open(proto);
    peer.input(hex('E7 E7 F1 0C'));
    peer.session.closed?.('client_closed');
    expect(timers.active).toBe(0);
  });

  it('with --gvret-fd off, FD frames withheld from any client are counted, not silent', () => {
    const { proto } = withTimers();
    const peer = FakeSessionPeer.open(proto, [{ bitrate: 500_000, fd: true }]);
    peer.input(hex('E7 E7 F1 07'));
    expect(peer.deliver(fd12, 0, proto.encoder)).toBeNull();
    expect(peer.deliver(empty, 0, proto.encoder)).not.toBeNull();
    expect(peer.withheldCalls).toEqual(['0:fd']);
  });

  it('unusable bytes are counted in stream order: a valid message in the same read does not reset the run before it', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 E7 F1 07'));
    peer.input([...new Array(300).fill(0), 0xf1, 0x09]);
    expect(peer.closedWith).toBe('malformed');
    expect(peer.malformedCalls.map((m) => m.code)).toEqual(['gvret_not_gvret']);
  });

  it('…while a valid message does reset the run that comes after it', () => {
    const peer = FakeSessionPeer.open(gvret);
    peer.input(hex('E7 E7 F1 07'));
    for (let k = 0; k < 20; k++) peer.input([...new Array(200).fill(0), 0xf1, 0x09]);
    expect(peer.closedWith).toBeNull();
  });
});
