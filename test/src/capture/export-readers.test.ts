// The export formats read by the tools people open them in: Debian's tshark reads PCAPNG and
// PCAP (ids, flags, lengths, data, timestamps, interface and direction of every frame),
// python-can 4.1's ASCReader and can-utils' asc2log read the ASC export, log2asc reads the
// candump export, and `capture import` of the candump and ASC exports gives the rows back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/commands/capture.js';
import { loadSqlite } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../src/capture/sqlite-store.js';
import { queryFrames } from '../../../src/capture/store-query.js';
import type { CapturedFrame } from '../../../src/capture/schema.js';
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame, makeFrame } from '../../../src/core/frame.js';
import { captureCli } from '../../support/cli-context.js';
import { requireHostTools } from '../../support/host-tools.js';

let dir: string;
let db: string;
let stored: CapturedFrame[];
const T0 = Date.UTC(2026, 10, 30, 2, 14, 0) + 0.25; // ms; µs fraction .250

/** A host tool the test runs as a real part (fails naming the Debian package when missing). */
function tool(name: string): string {
  requireHostTools(name);
  return name;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-export-readers-'));
  db = path.join(dir, 'capture.db');
  const s = CaptureStore.open(await loadSqlite(), { path: db, now: () => T0 });
  const records = [];
  for (let i = 0; i < 200; i++) {
    const t = T0 + i * 7.125;
    const bus = i % 2;
    let frame: CanFrame;
    if (i % 50 === 10) frame = makeFrame({ id: 0x7ff - i, rtr: true, len: i % 9, timestamp: t });
    else if (i % 50 === 20) frame = makeFrame({ id: 0x040, error: true, data: [0, 4, 0, 0, 0, 0, 0, 0], timestamp: t });
    else if (i % 50 === 30) frame = makeFrame({ id: 0x321, fd: true, fdFlags: 1, data: Array.from({ length: 12 }, (_, k) => k + i), timestamp: t });
    else if (i % 3 === 0) frame = makeFrame({ id: 0x100 + i, data: Array.from({ length: i % 9 }, (_, k) => (k * 17 + i) & 255), timestamp: t });
    else frame = makeFrame({ id: 0x1d000000 + i, extended: true, data: [i & 255, 0xfe, 0x01], timestamp: t });
    const tx = i % 5 === 4 && !(frame.id & CAN_ERR_FLAG);
    records.push({ bus, direction: tx ? 1 : 0, frame, session: tx ? 3 : 0, label: tx ? 'cannelloni' : null });
  }
  records.push({ bus: 0, direction: 2, frame: makeFrame({ id: 0x555, data: [1], timestamp: T0 + 2000 }), session: 4, label: 'read_only' });
  s.append(records, { 0: 'can0', 1: 'can1' });
  stored = [...queryFrames(s, { directions: ['rx', 'tx'] })];
  s.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const c = captureCli();
  const code = await run(args, c.ctx);
  return { code, out: c.stdout(), err: c.stderr() };
}

const rawId = (c: CapturedFrame): number => c.frame.id & (c.frame.id & (CAN_EFF_FLAG | CAN_ERR_FLAG) ? CAN_EFF_MASK : CAN_SFF_MASK);
const dataHex = (c: CapturedFrame): string => (c.frame.id & CAN_RTR_FLAG ? '' : Buffer.from(c.frame.data).toString('hex'));

describe('PCAPNG and PCAP in tshark', () => {
  const fields = [
    'frame.interface_name',
    'frame.time_epoch',
    'can.id',
    'can.flags.xtd',
    'can.flags.rtr',
    'can.flags.err',
    'can.len',
    'data.data',
    'frame.packet_flags_direction',
    'frame.len',
  ];
  function tshark(file: string): string[][] {
    const out = execFileSync(tool('tshark'), ['-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], {
      env: { ...process.env, HOME: dir },
    }).toString();
    return out
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
  }

  for (const format of ['pcapng', 'pcap'] as const) {
    it(`${format}: every frame of both buses as stored`, async () => {
      const file = path.join(dir, `all.${format}`);
      const r = await cli('export', '--capture', db, '--format', format, '-o', file);
      expect(r.code).toBe(0);
      expect(r.err).toBe(`${stored.length} frames written to ${file}\n`);
      const rows = tshark(file);
      expect(rows).toHaveLength(stored.length);
      rows.forEach((row, i) => {
        const c = stored[i];
        const [ifName, epoch, id, xtd, rtr, err, len, data, dirFlag, frameLen] = row;
        if (format === 'pcapng') {
          expect(ifName).toBe(c.bus);
          expect(Number(dirFlag)).toBe(c.direction === 'rx' ? 1 : 2); // inbound / outbound
        }
        expect(Math.round(Number(epoch) * 1e6)).toBe(Math.round(c.tsUs));
        expect(Number(frameLen)).toBe(c.frame.fd ? 72 : 16);
        if (c.frame.fd) return; // the FD dissector has its own fields, checked below
        if (!(c.frame.id & CAN_ERR_FLAG)) expect(Number(id)).toBe(rawId(c)); // an error frame shows its class instead
        expect(xtd === 'True' || xtd === '1').toBe((c.frame.id & CAN_EFF_FLAG) !== 0);
        expect(rtr === 'True' || rtr === '1').toBe((c.frame.id & CAN_RTR_FLAG) !== 0);
        expect(err === 'True' || err === '1').toBe((c.frame.id & CAN_ERR_FLAG) !== 0);
        expect(Number(len)).toBe(c.frame.len);
        if (!(c.frame.id & (CAN_ERR_FLAG | CAN_RTR_FLAG)) && c.frame.len > 0) expect(data.replace(/:/g, '')).toBe(dataHex(c));
      });
    });
  }

  it("pcapng with capture query's filters: one bus, an ID/mask, one direction", async () => {
    const file = path.join(dir, 'filtered.pcapng');
    const r = await cli('export', '--capture', db, '--format', 'pcapng', '--bus', 'can1', '--id', '0x1D000000/0x1F000000', '--direction', 'tx', '-o', file);
    expect(r.code).toBe(0);
    const want = stored.filter((c) => c.bus === 'can1' && c.direction === 'tx' && (c.frame.id & 0x1f000000) === 0x1d000000);
    expect(want.length).toBeGreaterThan(5);
    const rows = tshark(file);
    expect(rows.map((row) => [row[0], Number(row[2]), Number(row[8])])).toEqual(want.map((c) => ['can1', rawId(c), 2]));
  });

  it('pcapng: CAN FD frames are FD frames with BRS, and the interfaces are named', () => {
    const file = path.join(dir, 'all.pcapng');
    const out = execFileSync(
      tool('tshark'),
      ['-r', file, '-Y', 'canfd', '-T', 'fields', '-e', 'can.id', '-e', 'canfd.flags.brs', '-e', 'can.len', '-e', 'data.data'],
      { env: { ...process.env, HOME: dir } },
    )
      .toString()
      .trim()
      .split('\n');
    const fd = stored.filter((c) => c.frame.fd);
    expect(out).toHaveLength(fd.length);
    out.forEach((l, i) => {
      const [id, brs, len, data] = l.split('\t');
      expect(Number(id)).toBe(rawId(fd[i]));
      expect(brs === 'True' || brs === '1').toBe(true);
      expect(Number(len)).toBe(12);
      expect(data.replace(/:/g, '')).toBe(dataHex(fd[i]));
    });
    const ifaces = execFileSync(tool('tshark'), ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], { env: { ...process.env, HOME: dir } }).toString();
    expect(new Set(ifaces.trim().split('\n'))).toEqual(new Set(['can0', 'can1']));
  });
});

describe('ASC', () => {
  it('python-can 4.1 ASCReader reads every frame back exactly', async () => {
    const file = path.join(dir, 'all.asc');
    expect((await cli('export', '--capture', db, '--format', 'asc', '-o', file)).code).toBe(0);
    const script = `
import can, json, sys
out = []
for m in can.ASCReader(sys.argv[1], relative_timestamp=False):
    out.append([m.channel, round(m.timestamp * 1e6), m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_error_frame, m.is_fd, m.bitrate_switch, m.dlc, m.data.hex(), m.is_rx])
print(json.dumps(out))`;
    const got = JSON.parse(execFileSync(tool('/usr/bin/python3'), ['-c', script, file]).toString()) as unknown[][];
    expect(got).toHaveLength(stored.length);
    got.forEach((m, i) => {
      const c = stored[i];
      const err = (c.frame.id & CAN_ERR_FLAG) !== 0;
      expect(m[0]).toBe(c.bus === 'can0' ? 0 : 1);
      expect(m[1]).toBe(Math.round(c.tsUs));
      expect(m[5]).toBe(err);
      if (err) return; // ASC keeps no error class
      expect(m[2]).toBe(rawId(c));
      expect(m[3]).toBe((c.frame.id & CAN_EFF_FLAG) !== 0);
      expect(m[4]).toBe((c.frame.id & CAN_RTR_FLAG) !== 0);
      expect(m[6]).toBe(c.frame.fd);
      expect(m[7]).toBe(c.frame.fd);
      expect(m[8]).toBe(c.frame.len);
      expect(m[9]).toBe(dataHex(c));
      expect(m[10]).toBe(c.direction === 'rx');
    });
  });

  it('can-utils asc2log reads it back (spacing, buses, ids, data, R/T), log2asc turns that back into ASC python-can reads, and log2asc reads the candump export', async () => {
    const file = path.join(dir, 'all.asc');
    const log = execFileSync(tool('asc2log'), ['-I', file], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
      .split('\n');
    const classic = stored;
    expect(log).toHaveLength(classic.length);
    // asc2log starts at the file's date only where it can set an English locale; the spacing is exact either way.
    const t = (l: string): number => Math.round(Number(/^\((\d+\.\d+)\)/.exec(l)![1]) * 1e6);
    log.forEach((l, i) => {
      const c = classic[i];
      expect(t(l) - t(log[0])).toBe(Math.round(c.tsUs - classic[0].tsUs));
      const [, bus, frame, marker] = l.split(' ');
      expect(bus).toBe(c.bus);
      if (c.frame.id & CAN_ERR_FLAG) return;
      expect(marker).toBe(c.direction === 'rx' ? 'R' : 'T');
      const [idText, body] = frame.split('#');
      expect(Number.parseInt(idText, 16)).toBe(rawId(c));
      // CAN FD: ID##<flags><data>
      if (c.frame.fd) expect(frame.split('##')[1].toLowerCase()).toBe(`1${dataHex(c)}`);
      else if (!(c.frame.id & CAN_RTR_FLAG)) expect(body.toLowerCase()).toBe(dataHex(c));
    });
    // … and back with log2asc: python-can reads the round trip's ASC with the same frames.
    const roundLog = path.join(dir, 'round.log');
    fs.writeFileSync(roundLog, `${log.join('\n')}\n`);
    const roundAsc = path.join(dir, 'round.asc');
    execFileSync(tool('log2asc'), ['-I', roundLog, '-O', roundAsc, 'can0', 'can1']);
    const script =
      'import can, json, sys\nprint(json.dumps([[m.channel, m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_error_frame, m.is_fd, m.data.hex(), m.is_rx] for m in can.ASCReader(sys.argv[1])]))';
    const round = JSON.parse(execFileSync(tool('/usr/bin/python3'), ['-c', script, roundAsc]).toString()) as unknown[][];
    expect(round).toHaveLength(stored.length);
    round.forEach((m, i) => {
      const c = stored[i];
      expect(m[0]).toBe(c.bus === 'can0' ? 0 : 1);
      expect(m[4]).toBe((c.frame.id & CAN_ERR_FLAG) !== 0);
      if (c.frame.id & CAN_ERR_FLAG) return;
      expect([m[1], m[2], m[3], m[5], m[6], m[7]]).toEqual([
        rawId(c),
        (c.frame.id & CAN_EFF_FLAG) !== 0,
        (c.frame.id & CAN_RTR_FLAG) !== 0,
        c.frame.fd,
        dataHex(c),
        c.direction === 'rx',
      ]);
    });
    const candump = path.join(dir, 'all.log');
    expect((await cli('export', '--capture', db, '-o', candump)).code).toBe(0);
    expect(fs.readFileSync(candump, 'utf8').split('\n')[0]).toMatch(/^\(\d+\.\d{6}\) can0 [0-9A-F]+#[0-9A-F]* [RT]$/);
    const asc = execFileSync(tool('log2asc'), ['-I', candump, 'can0', 'can1']).toString().trim().split('\n');
    const lines = asc.filter((l) => /^\s*\d+\.\d+ /.test(l));
    expect(lines).toHaveLength(stored.length);
    expect(lines.filter((l) => / Tx /.test(l))).toHaveLength(stored.filter((c) => c.direction === 'tx').length);
  });
});

describe('capture import', () => {
  for (const format of ['candump', 'asc'] as const) {
    it(`of the ${format} export gives the rows back, tagged as imported`, async () => {
      const file = path.join(dir, format === 'asc' ? 'all.asc' : 'all.log');
      if (!fs.existsSync(file)) expect((await cli('export', '--capture', db, '--format', format, '-o', file)).code).toBe(0);
      const target = path.join(dir, `imported-${format}.db`);
      const r = await cli('import', file, '--capture', target);
      expect(r.code).toBe(0);
      expect(r.err).toMatch(new RegExp(`^${stored.length} frames imported`));
      const s = CaptureStore.open(await loadSqlite(), { path: target, readonly: true });
      const back = [...queryFrames(s, {})];
      s.close();
      expect(back).toHaveLength(stored.length);
      const json = JSON.parse((await cli('query', '--capture', target, '--limit', '1', '--since', '2026-11-01', '--json')).out);
      expect(json[0].source).toBe(`imported:${path.basename(file)}`);
      back.forEach((b, i) => {
        const c = stored[i];
        expect([b.bus, b.tsUs, b.direction, b.label]).toEqual([c.bus, c.tsUs, c.direction, `imported:${path.basename(file)}`]);
        if (format === 'asc' && c.frame.id & CAN_ERR_FLAG) return; // ASC keeps no error class
        expect(b.frame).toEqual({ ...c.frame, timestamp: b.frame.timestamp });
      });
    });
  }

  it('refuses a store that already has newer frames, and a missing --capture', async () => {
    const file = path.join(dir, 'all.log');
    expect((await cli('import', file)).code).toBe(2);
    const r = await cli('import', file, '--capture', db);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/newer than the log's first/);
  });
});
