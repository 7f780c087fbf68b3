import { describe, expect, it } from 'vitest';
import { linkFromSysfs, linkWarnings, parseIpLinkDetails } from '../../../../src/backends/socketcan/link.js';

// `ip -details -json link show can0` of an MCP2515 at 50 kbit/s (iproute2 6.1, Debian 12).
const CAN0 = JSON.stringify([
  {
    ifindex: 3,
    ifname: 'can0',
    flags: ['NOARP', 'UP', 'LOWER_UP', 'ECHO'],
    mtu: 16,
    qdisc: 'pfifo_fast',
    operstate: 'UP',
    linkmode: 'DEFAULT',
    group: 'default',
    txqlen: 100,
    link_type: 'can',
    linkinfo: {
      info_kind: 'can',
      info_data: {
        ctrlmode: [],
        state: 'ERROR-PASSIVE',
        restart_ms: 100,
        bittiming: { bitrate: 50000, sample_point: '0.875', tq: 1250, prop_seg: 6, phase_seg1: 7, phase_seg2: 2, sjw: 1, brp: 10 },
        clock: 8000000,
      },
    },
    parentbus: 'spi',
    parentdev: 'spi0.0',
  },
]);

// a vcan with the CAN FD MTU: no controller, no bitrate
const VCAN =
  '[{"ifindex":4,"ifname":"vcan0","flags":["NOARP","UP","LOWER_UP"],"mtu":72,"qdisc":"noqueue","operstate":"UNKNOWN","txqlen":1000,"link_type":"can","linkinfo":{"info_kind":"vcan"}}]';

describe('parseIpLinkDetails', () => {
  it('reads state, bitrate, restart-ms, qlen and clock of a real controller', () => {
    expect(parseIpLinkDetails(CAN0)).toEqual({
      ifname: 'can0',
      kind: 'can',
      mtu: 16,
      up: true,
      txQueueLen: 100,
      canState: 'error-passive',
      bitrate: 50000,
      dataBitrate: null,
      restartMs: 100,
      clock: 8000000,
    });
  });

  it('reads a vcan (no controller state, no bitrate)', () => {
    expect(parseIpLinkDetails(VCAN)).toMatchObject({ kind: 'vcan', mtu: 72, up: true, canState: null, bitrate: null });
  });

  it('returns null for text that is not ip -json output', () => {
    expect(parseIpLinkDetails('Device "can9" does not exist.')).toBeNull();
    expect(parseIpLinkDetails('[]')).toBeNull();
    expect(parseIpLinkDetails('')).toBeNull();
  });
});

describe('linkFromSysfs', () => {
  it('reads IFF_UP from the hex flags and the numbers', () => {
    expect(linkFromSysfs({ flags: '0xc1\n', mtu: '72\n', operstate: 'unknown\n', txQueueLen: '10\n', ifindex: '7\n' })).toEqual({
      present: true,
      up: true,
      mtu: 72,
      operstate: 'unknown',
      txQueueLen: 10,
      ifindex: 7,
    });
    expect(linkFromSysfs({ flags: '0xc0', mtu: '16', operstate: 'down' })).toMatchObject({ up: false, mtu: 16, txQueueLen: null, ifindex: null });
  });
});

describe('linkWarnings', () => {
  it('warns about restart-ms 0, a bad txqueuelen and a missing bitrate on real CAN only', () => {
    const d = parseIpLinkDetails(CAN0)!;
    expect(linkWarnings(d)).toEqual([]);
    const bad = { ...d, restartMs: 0, txQueueLen: 65536, bitrate: null };
    expect(linkWarnings(bad).map((w) => w.event)).toEqual(['can_restart_ms_zero', 'can_txqueuelen', 'can_bitrate_unknown']);
    expect(linkWarnings(bad)[0].message).toContain('restart-ms 100');
    expect(linkWarnings(parseIpLinkDetails(VCAN)!)).toEqual([]);
  });
});
