// cannelloni TCP v1 as a plug-in: both sides send `CANNELLONIv1` at once, then frames back to
// back. One listener per bus; the session joins its listener's bus once the hello matched.
// Frames on the bus before that are not delivered (real cannelloni discards them too).
import type { FrameEncoder, ProtocolSession, SessionPeer, WireProtocol } from '../types.js';
import { CANNELLONI_HELLO, CannelloniDecoder, encodeFrame, HelloReader } from './codec.js';

const encoder: FrameEncoder = { encode: encodeFrame };

function open(peer: SessionPeer): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  const hello = new HelloReader();
  let greeted = false;
  // A refused frame was read whole, so the stream is still in sync: counted, the session goes on.
  const decoder = new CannelloniDecoder(
    (frame) => peer.send(bus, frame),
    (refused) => peer.malformed(refused.code, refused.message, refused.bytes),
  );

  const decode = (bytes: Uint8Array): void => {
    const err = decoder.push(bytes);
    if (err) {
      peer.malformed(err.code, err.message, err.bytes);
      peer.close('malformed');
    }
  };

  return {
    greeting: () => CANNELLONI_HELLO,
    receive(chunk) {
      if (greeted) return decode(chunk);
      const r = hello.push(chunk);
      if (r === 'more') return;
      if (r === 'bad') return peer.reject('bad_magic', hello.received());
      greeted = true;
      if (!peer.ready()) return;
      peer.join(bus);
      if (hello.rest.length > 0) decode(hello.rest);
    },
  };
}

export const cannelloni: WireProtocol = {
  name: 'cannelloni',
  layout: 'per-bus',
  encoder,
  open,
  // Both sides send the hello at once, so the client role is the server's.
  dial: open,
  mdns: { type: 'can-server' },
};

export default cannelloni;
