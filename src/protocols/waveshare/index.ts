// The Waveshare 2-CH-CAN-TO-ETH format as a plug-in: the device serves each CAN channel on its
// own TCP port, so one listener per bus. There is no handshake: a connection is a client
// from accept (the device sends and takes records at once), and gone when it sends FIN, as
// every client (server/session.ts says why). Classic CAN only: FD and error frames on the bus are
// withheld from these sessions and counted (logged with the session), never truncated.
import { CAN_ERR_FLAG, type CanFrame } from '../../core/frame.js';
import type { FrameEncoder, JoinOptions, ProtocolSession, SessionPeer, WireProtocol } from '../types.js';
import { encodeRecord, RecordDecoder } from './codec.js';

const encoder: FrameEncoder = { encode: encodeRecord };

function open(peer: SessionPeer): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  const withheld = { fd: 0, error: 0 };
  let told = false;
  const decoder = new RecordDecoder((frame) => peer.send(bus, frame));
  // Counted here (the encoder has no session): what this client never sees, and why.
  const join: JoinOptions = {
    filter: (f: CanFrame) => {
      if (!f.fd && (f.id & CAN_ERR_FLAG) === 0) return true;
      if (f.fd) withheld.fd++;
      else withheld.error++;
      if (!told) {
        told = true;
        peer.log('info', 'frames_withheld', {
          reason: f.fd ? 'fd' : 'error_frame',
          hint: 'the Waveshare format carries classic CAN data and remote frames only; a CAN FD client can use cannelloni or tcpcan',
        });
      }
      return false;
    },
  };
  if (peer.ready()) peer.join(bus, join);

  return {
    greeting: () => null,
    receive(chunk) {
      const err = decoder.push(chunk);
      if (!err) return;
      peer.malformed(err.code, err.message, err.bytes);
      peer.close('malformed');
    },
    closed() {
      if (withheld.fd + withheld.error > 0) peer.log('info', 'frames_withheld_total', { fd: withheld.fd, error_frames: withheld.error });
    },
  };
}

export const waveshare: WireProtocol = {
  name: 'waveshare',
  layout: 'per-bus',
  encoder,
  open,
};

export default waveshare;
