import { describe, expect, it } from 'vitest';
import type { BusState as ContractBusState } from '../../../src/backends/types.js';
import { BUS_STATE_CODE } from '../../../src/core/bus-state.js';
import { BusStateTracker, canTransmit, decodeErrorFrame, type BusState } from '../../../src/core/bus-state.js';
import {
  CAN_ERR_BUSOFF,
  CAN_ERR_CNT,
  CAN_ERR_CRTL,
  CAN_ERR_CRTL_ACTIVE,
  CAN_ERR_CRTL_RX_OVERFLOW,
  CAN_ERR_CRTL_RX_PASSIVE,
  CAN_ERR_CRTL_RX_WARNING,
  CAN_ERR_CRTL_TX_PASSIVE,
  CAN_ERR_CRTL_TX_WARNING,
  CAN_ERR_FLAG,
  CAN_ERR_PROT,
  CAN_ERR_RESTARTED,
  type CanFrame,
} from '../../../src/core/frame.js';

/** An error frame as the kernel delivers it: can_id = ERR | class bits, 8 data bytes. */
function errFrame(classBits: number, data: Partial<Record<number, number>> = {}): CanFrame {
  const bytes = new Uint8Array(8);
  for (const [k, v] of Object.entries(data)) bytes[Number(k)] = v ?? 0;
  return { id: (CAN_ERR_FLAG | classBits) >>> 0, len: 8, data: bytes, fd: false, fdFlags: 0, timestamp: 0 };
}

const warning = () => errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_TX_WARNING });
const passive = () => errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_RX_PASSIVE });
const busOff = () => errFrame(CAN_ERR_BUSOFF);
const restarted = () => errFrame(CAN_ERR_RESTARTED);

describe('decodeErrorFrame', () => {
  it('reads classes, the announced state, overflow bits and counters', () => {
    expect(decodeErrorFrame(busOff())).toMatchObject({ classes: ['bus_off'], state: 'bus-off' });
    expect(decodeErrorFrame(restarted())).toMatchObject({ classes: ['restarted'], state: 'error-active' });
    expect(decodeErrorFrame(errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_RX_WARNING }))).toMatchObject({ state: 'error-warning' });
    expect(decodeErrorFrame(errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_TX_PASSIVE }))).toMatchObject({ state: 'error-passive' });
    expect(decodeErrorFrame(errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_ACTIVE }))).toMatchObject({ state: 'error-active' });
    const ovf = decodeErrorFrame(errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_RX_OVERFLOW }));
    expect(ovf).toMatchObject({ state: null, rxOverflow: true, txOverflow: false });
    const cnt = decodeErrorFrame(errFrame(CAN_ERR_CRTL | CAN_ERR_CNT, { 1: CAN_ERR_CRTL_TX_PASSIVE, 6: 130, 7: 3 }));
    expect(cnt).toMatchObject({ classes: ['controller', 'counters'], state: 'error-passive', tec: 130, rec: 3 });
    expect(decodeErrorFrame(errFrame(CAN_ERR_PROT))).toMatchObject({ classes: ['protocol'], state: null, tec: null });
  });

  it('bus-off wins over passive bits in the same frame', () => {
    const f = errFrame(CAN_ERR_BUSOFF | CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_TX_PASSIVE });
    expect(decodeErrorFrame(f).state).toBe('bus-off');
  });
});

describe('BusStateTracker', () => {
  it('walks active → warning → passive → bus-off → restarted with one transition each', () => {
    const t = new BusStateTracker();
    expect(t.link({ present: true, up: true })).toEqual({ from: 'unknown', to: 'error-active', cause: 'link up' });
    const seq = [warning(), warning(), passive(), busOff(), restarted()].map((f) => t.errorFrame(f));
    expect(seq.map((x) => x && `${x.from}>${x.to}`)).toEqual([
      'error-active>error-warning',
      null, // a repeated state is not a transition
      'error-warning>error-passive',
      'error-passive>bus-off',
      'bus-off>error-active',
    ]);
    expect(BUS_STATE_CODE[t.state]).toBe(0);
    const c = t.counters();
    expect(c).toMatchObject({ errorFrames: 5, busOff: 1, errorWarning: 1, errorPassive: 1, restarted: 1, transitions: 5 });
    expect(c.byClass).toMatchObject({ controller: 3, bus_off: 1, restarted: 1, protocol: 0 });
    expect(c.transitionsTo).toMatchObject({ 'error-active': 2, 'bus-off': 1 });
    expect(t.errorCounters()).toMatchObject({ errorFrames: 5, busOff: 1, restarted: 1, rxOverflow: 0 });
  });

  it('bus-off sets the gauge to 3 and stops transmission until restarted', () => {
    const t = new BusStateTracker('error-active');
    t.errorFrame(busOff());
    expect(BUS_STATE_CODE[t.state]).toBe(3);
    expect(canTransmit(t.state)).toBe(false);
    t.errorFrame(restarted());
    expect(canTransmit(t.state)).toBe(true);
  });

  it('link absent and down override the controller state; error frames then change nothing', () => {
    const t = new BusStateTracker('error-passive');
    expect(t.link({ present: true, up: false })).toMatchObject({ to: 'down', cause: 'link down' });
    expect(t.errorFrame(busOff())).toBeNull();
    expect(t.state).toBe('down');
    expect(t.counters().errorFrames).toBe(1); // still counted
    expect(t.link({ present: false, up: false })).toMatchObject({ from: 'down', to: 'absent' });
    expect(t.link({ present: true, up: true })).toMatchObject({ from: 'absent', to: 'error-active' });
  });

  it('an up link with a netlink controller state takes that state', () => {
    const t = new BusStateTracker('down');
    expect(t.link({ present: true, up: true, canState: 'bus-off' })).toMatchObject({ to: 'bus-off', cause: 'link state' });
    expect(t.link({ present: true, up: true, canState: 'bus-off' })).toBeNull();
    expect(t.link({ present: true, up: true, canState: 'error-active' })).toMatchObject({ from: 'bus-off' });
  });

  it('an up link without a controller state keeps what error frames said', () => {
    const t = new BusStateTracker('error-active');
    t.errorFrame(warning());
    expect(t.link({ present: true, up: true })).toBeNull();
    expect(t.state).toBe('error-warning');
  });

  it('counts overflows without a state change', () => {
    const t = new BusStateTracker('error-active');
    expect(t.errorFrame(errFrame(CAN_ERR_CRTL, { 1: CAN_ERR_CRTL_RX_OVERFLOW }))).toBeNull();
    expect(t.errorCounters()).toMatchObject({ rxOverflow: 1, errorFrames: 1 });
  });

  it('uses the same state names as the backend contract', () => {
    const all: BusState[] = ['error-active', 'error-warning', 'error-passive', 'bus-off', 'stopped', 'down', 'absent', 'unknown'];
    const asContract: ContractBusState[] = all;
    expect(asContract.every((s) => s in BUS_STATE_CODE)).toBe(true);
  });
});
