// The shipped overlays/ catalog is valid, and the validator rejects the mistakes
// old guides make (it would be a test that cannot fail otherwise).

import { describe, expect, it } from 'vitest';
import { boardLines, CatalogError, findBoard, lintOverlayLines, loadCatalog, validateCatalog } from '../../provisioning/catalog.js';

describe('overlays/catalog.json', () => {
  it('loads, with the Waveshare 2-CH CAN HAT as the verified default', async () => {
    const c = await loadCatalog();
    expect(c.default).toBe('waveshare-2ch-can-hat');
    const ws = findBoard(c, 'waveshare-2ch-can-hat');
    expect(ws?.verified).toBe(true);
    expect(boardLines(ws!)).toEqual([
      'dtparam=spi=on',
      'dtoverlay=mcp2515-can1,oscillator=16000000,interrupt=25',
      'dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=23',
    ]);
    expect(ws?.interfaces.map((i) => [i.name, i.spi, i.interrupt])).toEqual([
      ['can0', 'spi0.0', 23],
      ['can1', 'spi0.1', 25],
    ]);
  });

  it('lists every board the issue asks for, and marks all but the verified one unverified', async () => {
    const c = await loadCatalog();
    expect(c.boards.map((b) => b.id).sort()).toEqual(
      [
        'generic-mcp2515',
        'pican2',
        'pican2-duo',
        'waveshare-2ch-can-fd-hat',
        'waveshare-2ch-can-hat',
        'waveshare-2ch-can-hat-plus',
        'waveshare-rs485-can-hat',
        'waveshare-rs485-can-hat-8mhz',
      ].sort(),
    );
    for (const b of c.boards) if (b.id !== 'waveshare-2ch-can-hat') expect(b.verified, b.id).toBe(false);
    expect(boardLines(findBoard(c, 'waveshare-rs485-can-hat-8mhz')!)).toContain('dtoverlay=mcp2515-can0,oscillator=8000000,interrupt=25');
  });

  it('fills the generic MCP2515 template from the answers', async () => {
    const g = findBoard(await loadCatalog(), 'generic-mcp2515')!;
    expect(boardLines(g, { oscillator: 8000000, interrupt: 24 })).toEqual(['dtparam=spi=on', 'dtoverlay=mcp2515-can0,oscillator=8000000,interrupt=24']);
  });

  it('rejects the known-bad lines and a broken catalog, listing every problem', () => {
    expect(lintOverlayLines(['dtoverlay=mcp2515-can0-overlay,oscillator=16000000,interrupt=25'])[0]).toMatch(/-overlay suffix/);
    expect(lintOverlayLines(['dtoverlay=spi0-hw-cs'])[0]).toMatch(/deprecated/);
    expect(lintOverlayLines(['dtoverlay=mcp2515-can0,oscillator=16000000'])[0]).toMatch(/no interrupt=/);
    expect(lintOverlayLines(['dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25', 'dtoverlay=mcp2515-can1,oscillator=16000000,interrupt=25'])[0]).toMatch(
      /share interrupt=25/,
    );
    expect(lintOverlayLines(['dtoverlay=mcp2515-can0,oscillator=160000000,interrupt=25'])[0]).toMatch(/err=34/);
    const board = {
      id: 'x',
      name: 'X',
      controller: 'mcp2515',
      driver: 'mcp251x',
      oscillator: 16000000,
      fragment: 'x.txt',
      verified: false,
      interfaces: [{ name: 'can0', spi: 'spi0.0', chipSelect: 'CE0', interrupt: 25, connector: '' }],
      sources: [],
      notes: '',
    };
    try {
      validateCatalog(
        { schema: 1, default: 'nope', boards: [board] },
        { 'x.txt': 'dtoverlay=mcp2515-can0,oscillator=12000000,interrupt=25\ndtoverlay=spi-bcm2835-overlay\n', 'orphan.txt': 'x\n' },
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CatalogError);
      const p = (err as CatalogError).problems.join('\n');
      expect(p).toMatch(/spi-bcm2835/);
      expect(p).toMatch(/disagrees with oscillator 16000000/);
      expect(p).toMatch(/default "nope"/);
      expect(p).toMatch(/orphan.txt is not used/);
    }
  });
});
