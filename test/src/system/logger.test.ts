import { describe, expect, it } from 'vitest';
import { createLogger, isJournalStream, type LogFormat, type LogLevel } from '../../../src/system/logger.js';

const T0 = Date.parse('2026-11-22T02:30:00.123Z');

function capture(format: LogFormat, level: LogLevel = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ format, level, stream: { write: (chunk: string) => lines.push(chunk) }, now: () => T0 });
  return { log, lines };
}

describe('text format', () => {
  it('writes time, padded level, event and key=value fields on one line', () => {
    const { log, lines } = capture('text');
    log.info('tcp_listen', { addr: '127.0.0.1:20000', bus: 'can0' });
    log.error('serial_open', { port: 3, ok: false, none: null });
    expect(lines).toEqual([
      '2026-11-22T02:30:00.123Z info  tcp_listen addr=127.0.0.1:20000 bus=can0\n',
      '2026-11-22T02:30:00.123Z error serial_open port=3 ok=false none=null\n',
    ]);
  });

  it('quotes values with spaces, quotes, = or newlines so one event stays one line', () => {
    const { log, lines } = capture('text');
    log.warn('odd', { a: 'two words', b: 'say "hi"', c: 'k=v', d: 'line1\nline2', e: '', f: 'plain' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('2026-11-22T02:30:00.123Z warn  odd a="two words" b="say \\"hi\\"" c="k=v" d="line1\\nline2" e="" f=plain\n');
    expect(lines[0].indexOf('\n')).toBe(lines[0].length - 1);
  });

  it('renders objects and arrays as compact JSON, skips undefined', () => {
    const { log, lines } = capture('text');
    log.info('x', { list: [1, 2], obj: { k: 'v' }, gone: undefined, big: 10n });
    expect(lines[0]).toBe('2026-11-22T02:30:00.123Z info  x list=[1,2] obj="{\\"k\\":\\"v\\"}" big=10\n');
  });
});

describe('json format', () => {
  it('writes one JSON object per line with time, level, event first', () => {
    const { log, lines } = capture('json');
    log.info('client_connected', { conn_id: 7, remote: '[::1]:5000' });
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(lines[0]))).toEqual(['time', 'level', 'event', 'conn_id', 'remote']);
    expect(JSON.parse(lines[0])).toEqual({
      time: '2026-11-22T02:30:00.123Z',
      level: 'info',
      event: 'client_connected',
      conn_id: 7,
      remote: '[::1]:5000',
    });
  });

  it('does not let a field overwrite time/level/event', () => {
    const { log, lines } = capture('json');
    log.info('e', { level: 'fake', time: 1 });
    const rec = JSON.parse(lines[0]);
    expect(rec.level).toBe('info');
    expect(rec.level_field).toBe('fake');
    expect(rec.time_field).toBe(1);
  });

  it('survives circular objects and non-finite numbers', () => {
    const { log, lines } = capture('json');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    log.info('e', { loop, n: Infinity, ok: 1 });
    const rec = JSON.parse(lines[0]);
    expect(rec.loop).toBe('[unserializable]');
    expect(rec.n).toBe('Infinity');
    expect(rec.ok).toBe(1);
  });
});

describe('errors as fields', () => {
  it('flattens an Error to its message, code and hint (and causes)', () => {
    const { log, lines } = capture('json');
    const cause = new Error('EACCES: permission denied');
    const err = Object.assign(new Error('cannot open /dev/ttyUSB0', { cause }), { code: 'SERIAL_OPEN', hint: 'add the user to dialout' });
    log.error('serial_open_failed', { error: err });
    expect(JSON.parse(lines[0])).toMatchObject({
      error: 'cannot open /dev/ttyUSB0: EACCES: permission denied',
      error_code: 'SERIAL_OPEN',
      error_hint: 'add the user to dialout',
    });
    const text = capture('text');
    text.log.error('x', { error: new Error('boom') });
    expect(text.lines[0]).toBe('2026-11-22T02:30:00.123Z error x error=boom\n');
  });
});

describe('levels', () => {
  it('drops lines below the level and reports enabled()', () => {
    const { log, lines } = capture('text', 'warn');
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(lines).toEqual(['2026-11-22T02:30:00.123Z warn  c\n', '2026-11-22T02:30:00.123Z error d\n']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('warn')).toBe(true);
  });

  it('does not compute fields when the level is off (getter never read)', () => {
    const { log, lines } = capture('text', 'info');
    let reads = 0;
    const fields = {
      get expensive() {
        reads++;
        return 1;
      },
    };
    log.debug('hot_path', fields);
    expect(reads).toBe(0);
    expect(lines).toEqual([]);
  });

  it('reconfigure changes level and format for the logger and its children', () => {
    const { log, lines } = capture('text', 'info');
    const child = log.child({ conn_id: 1 });
    child.debug('hidden');
    log.reconfigure({ level: 'debug', format: 'json' });
    child.debug('shown');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'debug', event: 'shown', conn_id: 1 });
  });
});

describe('child loggers', () => {
  it('add their fields to every line; call-site fields win; nesting merges', () => {
    const { log, lines } = capture('text');
    const conn = log.child({ conn_id: 3, remote: '127.0.0.1:4000' });
    conn.info('client_disconnected', { reason: 'eof' });
    conn.child({ bus: 'can1' }).info('e', { conn_id: 4 });
    log.info('root');
    expect(lines).toEqual([
      '2026-11-22T02:30:00.123Z info  client_disconnected conn_id=3 remote=127.0.0.1:4000 reason=eof\n',
      '2026-11-22T02:30:00.123Z info  e conn_id=4 remote=127.0.0.1:4000 bus=can1\n',
      '2026-11-22T02:30:00.123Z info  root\n',
    ]);
  });
});

describe('never throws', () => {
  it('swallows a failing stream', () => {
    const log = createLogger({
      format: 'text',
      level: 'debug',
      stream: {
        write() {
          throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        },
      },
    });
    expect(() => log.error('x', { a: 1 })).not.toThrow();
  });

  it('survives hostile field values', () => {
    const { log, lines } = capture('text');
    const hostile = {
      get boom() {
        throw new Error('getter');
      },
    };
    expect(() => log.info('x', hostile)).not.toThrow();
    expect(() => log.info('y', { sym: Symbol('s'), fn: () => 1 })).not.toThrow();
    expect(lines.some((l) => l.includes(' y '))).toBe(true);
  });
});

describe('journald', () => {
  it('journal: each line starts with its syslog priority and has no timestamp of its own', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', level: 'debug', journal: true, now: () => 0, stream: { write: (l: string) => lines.push(l) } });
    log.debug('d');
    log.info('tcp_listen', { addr: '127.0.0.1:20000' });
    log.warn('w');
    log.error('e', { error: new Error('boom') });
    expect(lines).toEqual(['<7>debug d\n', '<6>info  tcp_listen addr=127.0.0.1:20000\n', '<4>warn  w\n', '<3>error e error=boom\n']);
    const json: string[] = [];
    createLogger({ format: 'json', level: 'info', journal: true, stream: { write: (l: string) => json.push(l) } }).warn('w', { a: 1 });
    expect(json).toEqual(['<4>{"level":"warn","event":"w","a":1}\n']);
  });

  it("isJournalStream compares JOURNAL_STREAM with the stream's own device and inode", async () => {
    const fsm = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fsm.mkdtempSync(path.join(os.tmpdir(), 'ab-journal-'));
    try {
      const fd = fsm.openSync(path.join(dir, 'stderr'), 'w');
      const other = fsm.openSync(path.join(dir, 'other'), 'w');
      const st = fsm.fstatSync(fd, { bigint: true });
      const env = { JOURNAL_STREAM: `${st.dev}:${st.ino}` };
      expect(isJournalStream(env, { fd })).toBe(true);
      expect(isJournalStream(env, { fd: other })).toBe(false); // stderr redirected elsewhere
      expect(isJournalStream({}, { fd })).toBe(false);
      expect(isJournalStream(env, { write() {} })).toBe(false); // not a file descriptor

      // serve wires it: run in-process with stderr on that file and JOURNAL_STREAM naming it.
      const { Writable } = await import('node:stream');
      const stderr = Object.assign(new Writable({ write: (c, _e, done) => (fsm.writeSync(fd, String(c)), done()) }), { fd });
      const { run } = await import('../../../src/cli/commands/serve.js');
      const { captureCli } = await import('../../support/cli-context.js');
      const sock = path.join(dir, 'c.sock');
      const cli = captureCli({ env: { ...env, HOME: dir }, stderr });
      const done = run(['--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0', '--control-socket', sock], cli.ctx);
      for (let i = 0; i < 400 && !fsm.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
      cli.signals.emit('SIGTERM');
      expect(await done).toBe(0);
      const written = fsm.readFileSync(path.join(dir, 'stderr'), 'utf8').trimEnd().split('\n');
      expect(written.length).toBeGreaterThan(2);
      for (const l of written) expect(l).toMatch(/^<[3467]>(debug|info |warn |error) \S/);
      expect(written.some((l) => l.startsWith('<4>warn  virtual_backend'))).toBe(true);
      fsm.closeSync(fd);
      fsm.closeSync(other);
    } finally {
      fsm.rmSync(dir, { recursive: true, force: true });
    }
  });
});
