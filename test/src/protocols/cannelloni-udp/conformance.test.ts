// cannelloni over UDP through the datagram conformance suite, with a peer written from
// cannelloni's doc/udp_format.md (test/support/cannelloni-udp-peer.ts).
import { encode } from '../../../support/cannelloni-client.js';
import { datagram, UdpPeer } from '../../../support/cannelloni-udp-peer.js';
import { runDatagramConformance } from '../../../support/datagram-conformance.js';

const one = encode({ id: 0x123, data: [1, 2, 3] });
const two = encode({ id: 0x124, data: [4, 5] });

runDatagramConformance({
  name: 'cannelloni-udp',
  config: (peers) => ({ cannelloniUdp: { host: '127.0.0.1', port: 0 }, cannelloniUdpPeer: peers.map((port) => ({ host: '127.0.0.1', port })) }),
  port: (d) => d.daemon.port(0, 'cannelloni-udp'),
  openPeer: () => UdpPeer.open(),
  // 1500-byte link over IPv6: 1500 − 40 − 8 (cannelloni's udpthread.cpp rule, the stricter family).
  maxDatagram: 1452,
  garbage: {
    'truncated (shorter than the header)': Buffer.from([2, 0, 0]),
    'truncated (a frame cut at the end)': datagram(0, [one, two.subarray(0, 6)], 2),
    'lying (count above the frames it holds)': datagram(0, [one], 3),
    'lying (frames beyond its count)': datagram(0, [one, two], 1),
    'wrong version': Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), one]),
    'ACK op code': Buffer.from([2, 1, 0, 0, 0]),
    'bad length (classic len 9)': datagram(0, [Buffer.from([0, 0, 1, 0x23, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9])]),
    oversized: datagram(
      0,
      Array.from({ length: 1200 }, () => one),
      1200,
    ),
  },
  // 0 1 2, then 5 (3 and 4 skipped), 7 (6 skipped), then 6 late, 6 again (a duplicate), 8.
  sequence: { seqs: [0, 1, 2, 5, 7, 6, 6, 8], lost: 2, misordered: 2 },
});
