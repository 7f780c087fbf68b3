// tcpcan as a plug-in: the client sends `v 1`, we answer `v 1`, then raw (FD) frames both
// ways in `d` messages. One listener per bus.
//
// Version negotiation, as tcpcan's README (simontegelid/tcpcan, README.md, "Protocol version
// negotiation") specifies it: the client proposes a version (typically its highest); the server
// answers with the same number (agreed) or proposes a lower one, and the negotiation goes on
// until both name the same version; 0 means no agreement and the connection ends. A party does
// not answer a proposal equal to one it made itself. We speak only 1, so a client proposing 2
// or more gets `v 1`, and its `v 1` then agrees (without a second answer from us).
//
// Frames on the bus between accept and agreement are delivered right after our `v 1`, as the
// reference server does: the session joins its bus at once, and the server holds its queue
// until ready() (bounded by --hub-buffer; beyond it the hub policy applies, counted as usual).
import type { FrameEncoder, ProtocolSession, SessionPeer, WireProtocol } from '../types.js';
import { encodeFrame, encodeVersion, TCPCAN_VERSION, TcpcanDecoder, type TcpcanMessage } from './codec.js';

const encoder: FrameEncoder = { encode: encodeFrame };
const VERSION_REPLY = encodeVersion(TCPCAN_VERSION);

function open(peer: SessionPeer): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  let agreed = false;
  /** We proposed `v 1` to a client that proposed a higher version: its `v 1` now agrees. */
  let proposed = false;
  let open = true;
  const received: number[] = [];

  const negotiate = (m: TcpcanMessage): boolean => {
    if (m.type !== 'version') {
      // Before an agreement only version messages are valid.
      peer.reject('no_version', Uint8Array.from(received));
      return (open = false);
    }
    if (m.version === TCPCAN_VERSION) {
      agreed = true;
      // Our own proposal coming back is the agreement: it is not answered again.
      if (!proposed) peer.reply(VERSION_REPLY);
      return peer.ready();
    }
    if (m.version > TCPCAN_VERSION && !proposed) {
      proposed = true;
      peer.reply(VERSION_REPLY);
      return open;
    }
    // 0 (no agreement possible), or a client that will not go down to our proposal.
    peer.reject('bad_version', Uint8Array.from(received));
    return (open = false);
  };

  const onMessage = (m: TcpcanMessage): boolean => {
    if (!agreed) return negotiate(m);
    if (m.type === 'frame') {
      peer.send(bus, m.frame);
      return open;
    }
    if (m.type === 'refused') {
      peer.malformed(m.code, m.message, m.bytes);
      return open;
    }
    peer.malformed('unexpected_version', 'a version message after the agreement');
    peer.close('malformed');
    return (open = false);
  };
  const decoder = new TcpcanDecoder(onMessage);
  peer.join(bus);

  return {
    greeting: () => null,
    receive(chunk) {
      if (!agreed) for (let k = 0; k < chunk.length && received.length < 16; k++) received.push(chunk[k]);
      const err = decoder.push(chunk);
      if (!err || !open) return;
      open = false;
      if (!agreed) return peer.reject(err.code, err.bytes);
      peer.malformed(err.code, err.message, err.bytes);
      peer.close('malformed');
    },
    closed: () => {
      open = false;
    },
  };
}

/**
 * The client role (the bridge dialled `tcpcan --serve`): we say `v 1` first and wait for the
 * server's `v 1`; frames flow both ways after it. Bus frames wait in the session's queue until
 * then (bounded, and dropped when older than --client-max-lag).
 */
function dial(peer: SessionPeer): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  let agreed = false;
  let open = true;
  const received: number[] = [];
  const onMessage = (m: TcpcanMessage): boolean => {
    if (!agreed) {
      if (m.type === 'version' && m.version === TCPCAN_VERSION) {
        agreed = true;
        if (!peer.ready()) return (open = false);
        peer.join(bus);
        return true;
      }
      peer.reject(m.type === 'version' ? 'bad_version' : 'no_version', Uint8Array.from(received));
      return (open = false);
    }
    if (m.type === 'frame') {
      peer.send(bus, m.frame);
      return open;
    }
    peer.malformed('unexpected_version', 'a version message after the agreement');
    peer.close('malformed');
    return (open = false);
  };
  const decoder = new TcpcanDecoder(onMessage);
  return {
    greeting: () => VERSION_REPLY,
    receive(chunk) {
      if (!agreed) for (let k = 0; k < chunk.length && received.length < 16; k++) received.push(chunk[k]);
      const err = decoder.push(chunk);
      if (!err || !open) return;
      open = false;
      if (!agreed) return peer.reject(err.code, err.bytes);
      peer.malformed(err.code, err.message, err.bytes);
      peer.close('malformed');
    },
    closed: () => {
      open = false;
    },
  };
}

export const tcpcan: WireProtocol = {
  name: 'tcpcan',
  layout: 'per-bus',
  encoder,
  open,
  dial,
  // The reference peer reads a message as two recv() calls with no reassembly: a message split
  // across TCP segments breaks it. A write that fits one Ethernet segment (MSS 1448 with
  // timestamps) arrives whole, so batches are cut into writes of at most this many bytes.
  maxWriteBytes: 1400,
};

export default tcpcan;
