import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOW, parseAddressList } from '../../../src/guard/address-list.js';
import { type AccessSettings, Gatekeeper } from '../../../src/guard/gatekeeper.js';
import { parseIdMaskList } from '../../../src/guard/id-mask.js';

const base: AccessSettings = { allow: DEFAULT_ALLOW, txAllow: null, txRate: null, txIds: [], maxPendingPerHost: 2, maxClientsPerHost: 2 };

describe('Gatekeeper', () => {
  it('allow list, listen-only by --tx-allow (default: same as --allow)', () => {
    const g = new Gatekeeper<number>({ ...base, txAllow: parseAddressList('127.0.0.2'), txRate: { rate: 5, burst: 5 }, txIds: parseIdMaskList('100') });
    expect(g.allowed('::ffff:127.0.0.3')).toBe(true);
    expect(g.allowed('198.51.100.7')).toBe(false);
    expect(g.txPolicy('::ffff:127.0.0.2').readOnly).toBe(false);
    expect(g.txPolicy('127.0.0.3')).toMatchObject({ readOnly: true, rate: { rate: 5, burst: 5 } });
    const open = new Gatekeeper<number>(base);
    expect(open.txPolicy('127.0.0.3').readOnly).toBe(false);
  });

  it('pending share per host, client slots per host, counts by reason and protocol', () => {
    const g = new Gatekeeper<number>(base);
    const h = g.hostOf('::ffff:10.0.0.7');
    expect(h).toBe('10.0.0.7');
    expect(g.enterPending(h, 1)).toEqual([]);
    expect(g.enterPending(h, 2)).toEqual([]);
    expect(g.enterPending(h, 3)).toEqual([1]);
    expect(g.leavePending(h, 2)).toBe(true);
    expect(g.takeSlot(h)).toBe(true);
    expect(g.takeSlot(h)).toBe(true);
    expect(g.takeSlot(h)).toBe(false);
    g.releaseSlot(h);
    expect(g.takeSlot(h)).toBe(true);
    g.reject('not_allowed', 'cannelloni');
    g.reject('not_allowed', 'cannelloni');
    g.reject('pending_evicted', 'tcpcan');
    expect(g.rejected()).toEqual([
      { reason: 'not_allowed', protocol: 'cannelloni', count: 2 },
      { reason: 'pending_evicted', protocol: 'tcpcan', count: 1 },
    ]);
    expect(g.totalRejected()).toBe(3);
    g.txRefused('read_only', 'cannelloni');
    expect(g.refusedTx()).toEqual([{ reason: 'read_only', protocol: 'cannelloni', count: 1 }]);
  });

  it('update applies new shares and returns what no longer fits', () => {
    const g = new Gatekeeper<number>({ ...base, maxPendingPerHost: 4 });
    for (let i = 0; i < 4; i++) g.enterPending('a', i);
    expect(g.update({ ...base, maxPendingPerHost: 1, allow: parseAddressList('loopback') })).toEqual([0, 1, 2]);
    expect(g.allowed('192.168.1.1')).toBe(false);
  });
});
