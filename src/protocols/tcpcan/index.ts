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

/** What a role does with the messages before the agreement; the rest is the same for both. */
interface Negotiation {
  agreed: boolean;
  open: boolean;
  /** The first bytes the peer sent (shown when it is refused). */
  readonly received: number[];
}

/**
 * One tcpcan session for either role: `negotiate` handles every message until it sets
 * `agreed`; after that frames go to the bus and a second version message is malformed.
 */
function session(peer: SessionPeer, greeting: Uint8Array | null, negotiate: (m: TcpcanMessage, state: Negotiation) => boolean): ProtocolSession {
  const bus = peer.listenerBus ?? 0;
  const state: Negotiation = { agreed: false, open: true, received: [] };
  const decoder = new TcpcanDecoder((m) => {
    if (!state.agreed) return negotiate(m, state);
    if (m.type === 'frame') {
      peer.send(bus, m.frame);
      return state.open;
    }
    if (m.type === 'refused') {
      peer.malformed(m.code, m.message, m.bytes);
      return state.open;
    }
    peer.malformed('unexpected_version', 'a version message after the agreement');
    peer.close('malformed');
    return (state.open = false);
  });
  return {
    greeting: () => greeting,
    receive(chunk) {
      if (!state.agreed) for (let k = 0; k < chunk.length && state.received.length < 16; k++) state.received.push(chunk[k]);
      const err = decoder.push(chunk);
      if (!err || !state.open) return;
      state.open = false;
      if (!state.agreed) return peer.reject(err.code, err.bytes);
      peer.malformed(err.code, err.message, err.bytes);
      peer.close('malformed');
    },
    closed: () => {
      state.open = false;
    },
  };
}

/** The server role: the client proposes, we answer (or propose 1 to a higher proposal). */
function open(peer: SessionPeer): ProtocolSession {
  /** We proposed `v 1` to a client that proposed a higher version: its `v 1` now agrees. */
  let proposed = false;
  peer.join(peer.listenerBus ?? 0);
  return session(peer, null, (m, state) => {
    if (m.type !== 'version') {
      // Before an agreement only version messages are valid.
      peer.reject('no_version', Uint8Array.from(state.received));
      return (state.open = false);
    }
    if (m.version === TCPCAN_VERSION) {
      state.agreed = true;
      // Our own proposal coming back is the agreement: it is not answered again.
      if (!proposed) peer.reply(VERSION_REPLY);
      return peer.ready();
    }
    if (m.version > TCPCAN_VERSION && !proposed) {
      proposed = true;
      peer.reply(VERSION_REPLY);
      return state.open;
    }
    // 0 (no agreement possible), or a client that will not go down to our proposal.
    peer.reject('bad_version', Uint8Array.from(state.received));
    return (state.open = false);
  });
}

/**
 * The client role (the bridge dialled `tcpcan --serve`): we say `v 1` first and wait for the
 * server's `v 1`; frames flow both ways after it. Bus frames wait in the session's queue until
 * then (bounded, and dropped when older than --client-max-lag).
 */
function dial(peer: SessionPeer): ProtocolSession {
  return session(peer, VERSION_REPLY, (m, state) => {
    if (m.type === 'version' && m.version === TCPCAN_VERSION) {
      state.agreed = true;
      if (!peer.ready()) return (state.open = false);
      peer.join(peer.listenerBus ?? 0);
      return true;
    }
    peer.reject(m.type === 'version' ? 'bad_version' : 'no_version', Uint8Array.from(state.received));
    return (state.open = false);
  });
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
