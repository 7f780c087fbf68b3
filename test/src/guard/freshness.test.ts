import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Freshness } from '../../../src/guard/freshness.js';

describe('Freshness', () => {
  it('holds once unacknowledged bytes are older than half the lag, resumes when they are delivered', () => {
    const f = new Freshness(2000);
    f.wrote(1000, 0);
    expect(f.observe(1000, 900, 'drop')).toBe('none');
    expect(f.observe(1000, 1001, 'drop')).toBe('hold');
    expect(f.held).toBe(true);
    expect(f.observe(1000, 1500, 'drop')).toBe('none');
    expect(f.observe(0, 1600, 'drop')).toBe('resume');
    expect(f.kernelLagMs).toBe(0);
    expect(f.inFlight).toBe(false);
  });

  it('a client that is behind but still acknowledging keeps being written to until the whole lag', () => {
    const f = new Freshness(2000);
    f.wrote(1000, 0);
    expect(f.observe(1000, 100, 'drop')).toBe('none');
    f.wrote(1000, 1000);
    expect(f.observe(1500, 1200, 'drop')).toBe('none'); // 500 more acknowledged: reading, 1.2 s behind
    expect(f.observe(1200, 1900, 'drop')).toBe('none');
    expect(f.observe(1100, 2100, 'drop')).toBe('hold'); // past the whole lag
  });

  it('under kick, a client past the whole lag is too late', () => {
    const f = new Freshness(2000);
    f.wrote(10, 0);
    expect(f.observe(10, 2001, 'kick')).toBe('too_late');
    expect(f.observe(10, 2001, 'drop')).toBe('hold');
  });

  it('tooOld and behindMs use the lag', () => {
    const f = new Freshness(100);
    expect(f.tooOld(0, 100)).toBe(false);
    expect(f.tooOld(0, 101)).toBe(true);
    f.wrote(5, 0);
    f.observe(5, 50, 'drop');
    expect(f.behindMs(null, 50)).toBe(50);
    expect(f.behindMs(-30, 50)).toBe(80);
  });

  it('property: while held nothing is written, so the unacknowledged bytes are only what was written before the hold', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 100, max: 5000 }), (gaps, maxLag) => {
        // A client that never acknowledges anything; we write one 13-byte frame per tick
        // unless held, and measure every tick.
        const f = new Freshness(maxLag);
        let t = 0;
        let written = 0;
        let writtenAfterHoldThreshold = 0;
        for (const g of gaps) {
          t += g;
          f.observe(written, t, 'drop');
          if (!f.held) {
            f.wrote(13, t);
            written += 13;
            if (f.kernelLagMs > maxLag / 2) writtenAfterHoldThreshold++;
          }
        }
        expect(writtenAfterHoldThreshold).toBe(0);
        // Everything written was queued within half the lag of the first unacknowledged byte + one tick.
        if (written > 0) expect(f.held || f.kernelLagMs <= maxLag / 2).toBe(true);
      }),
    );
  });
});
