// Transcripts (dmesg, ip -details -json link, os-release) → the right diagnosis, plus a
// property: the parsers never throw on arbitrary kernel-log text.

import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errnoMeaning, iniValue, parseDmesg, parseIpLinkJson, parseOsRelease, parseSystemdVersion, TranscriptError } from '../../provisioning/diagnose.js';

const fx = (name: string) => readFileSync(path.join(process.cwd(), 'test/fixtures/transcripts', name), 'utf8');

describe('dmesg', () => {
  it('healthy: both chips initialised, mapped to their interfaces', () => {
    expect(parseDmesg(fx('dmesg-healthy.txt')).map((c) => [c.spi, c.iface, c.ok])).toEqual([
      ['spi0.0', 'can0', true],
      ['spi0.1', 'can1', true],
    ]);
  });

  it('err=110: wrong variant/bus or a soft-reboot re-init failure, with a power-cycle fix', () => {
    const chips = parseDmesg(fx('dmesg-err110.txt'));
    expect(chips.find((c) => c.spi === 'spi0.0')).toMatchObject({ ok: false, errno: 110 });
    // spi0.1 came up as can0: the failed chip shifted the names.
    expect(chips.find((c) => c.spi === 'spi0.1')).toMatchObject({ ok: true, iface: 'can0' });
    expect(errnoMeaning(110).fix).toMatch(/power-cycle/);
  });

  it('err=34: an oscillator typo; err=19: nothing answered on that chip select', () => {
    expect(parseDmesg(fx('dmesg-err34.txt'))[0]).toMatchObject({ spi: 'spi0.0', errno: 34 });
    expect(errnoMeaning(-34).meaning).toMatch(/oscillator/);
    expect(parseDmesg(fx('dmesg-wiring.txt')).find((c) => c.spi === 'spi0.1')).toMatchObject({ ok: false, errno: 19 });
    expect(errnoMeaning(19).meaning).toMatch(/no MCP2515 answered/);
  });

  it('property: any text parses without throwing, and only mcp251x lines produce reports', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 40 }), (lines) => {
        const r = parseDmesg(lines.join('\n'));
        for (const c of r) expect(c.spi).toMatch(/^spi\d+\.\d+$/);
      }),
    );
  });
});

describe('ip -details -json link', () => {
  it('reads bitrate, restart-ms, qlen, state, clock and the SPI parent; skips non-CAN links', () => {
    const links = parseIpLinkJson(fx('ip-link-healthy.json'));
    expect(links.map((l) => l.name)).toEqual(['can0', 'can1']);
    expect(links[0]).toMatchObject({
      state: 'UP',
      bitrate: 50000,
      restartMs: 100,
      qlen: 100,
      canState: 'ERROR-ACTIVE',
      parentDev: 'spi0.0',
      clock: 8000000,
      samplePoint: '0.875',
    });
    expect(links[0].canStats.bus_off).toBe(0);
  });

  it('a down link has no bittiming', () => {
    const l = parseIpLinkJson(
      '[{"ifname":"can0","operstate":"DOWN","txqlen":10,"linkinfo":{"info_kind":"can","info_data":{"state":"STOPPED","restart_ms":0}}}]',
    )[0];
    expect(l).toMatchObject({ bitrate: null, restartMs: 0, qlen: 10, canState: 'STOPPED' });
  });

  it('rejects output that is not a JSON list', () => {
    expect(() => parseIpLinkJson('3: can0: <NOARP,UP>')).toThrow(TranscriptError);
    expect(() => parseIpLinkJson('{}')).toThrow(/not a list/);
  });

  it('property: arbitrary JSON never crashes the parser', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseIpLinkJson(JSON.stringify(v));
        } catch (err) {
          expect(err).toBeInstanceOf(TranscriptError);
        }
      }),
    );
  });
});

describe('small parsers', () => {
  it('systemd version, os-release, ini values', () => {
    expect(parseSystemdVersion('systemd 252 (252.38-1~deb12u1)\n+PAM')).toBe(252);
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n')).toEqual({
      prettyName: 'Debian GNU/Linux 13 (trixie)',
      id: 'debian',
      codename: 'trixie',
    });
    expect(iniValue('[Match]\nName=can0\n[CAN]\n# BitRate=1\nBitRate=50000\n', 'CAN', 'BitRate')).toBe('50000');
    expect(iniValue('[Link]\nBitRate=1\n', 'CAN', 'BitRate')).toBeNull();
  });
});
