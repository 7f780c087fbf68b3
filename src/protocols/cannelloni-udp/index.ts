// cannelloni over UDP as a plug-in: no hello, no negotiation: a peer is a client from its first
// datagram (or from start, when configured). Each datagram is decoded whole (codec.ts) or
// counted and dropped, never closing the peer: UDP garbage is a stranger's, not a broken stream.
// The frame encoding is cannelloni TCP's, so the encoder is shared with it; the server packs
// encoded frames into datagrams behind the header `datagram` writes, cut at the payload size
// (cannelloni's MTU rule) or at --flush-interval (cannelloni's `-t`).
import type { FrameEncoder, ProtocolSession, SessionPeer, WireProtocol } from '../types.js';
import { encodeFrame } from '../cannelloni/codec.js';
import { cannelloniFraming, decodeDatagram } from './codec.js';
import { SequenceTracker } from './sequence.js';

const encoder: FrameEncoder = { encode: encodeFrame };

function open(peer: SessionPeer): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  const seq = new SequenceTracker();
  if (peer.ready()) peer.join(bus);
  return {
    greeting: () => null,
    receive(datagram) {
      const d = decodeDatagram(datagram);
      if (!d.ok) return peer.malformed(d.problem, d.detail, datagram.subarray(0, 16));
      const step = seq.next(d.seq);
      if (step.lost !== 0 || step.misordered !== 0) peer.sequence(step.lost, step.misordered);
      for (const f of d.frames) peer.send(bus, f);
    },
  };
}

export const cannelloniUdp: WireProtocol = {
  name: 'cannelloni-udp',
  layout: 'per-bus',
  encoder,
  open,
  datagram: cannelloniFraming,
};

export default cannelloniUdp;
