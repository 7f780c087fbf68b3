// `serve` start-up failures, in-process: each problem said once (log record with its hint,
// no second plain copy), and exit 2 for what a restart cannot fix, 1 for what it may.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConfigurationFailure, run } from '../../../../src/cli/commands/serve.js';
import { captureCli } from '../../../support/cli-context.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-serve-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function serveArgs(listen: string): string[] {
  return ['--backend', 'virtual', '--listen', listen, '--control-socket', path.join(dir, 'c.sock'), '--config', writeEmptyConfig()];
}

function writeEmptyConfig(): string {
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '{}');
  return file;
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('serve start-up failures', () => {
  it('an address that is not on this machine is a configuration error: exit 2, said once with its hint', async () => {
    const cli = captureCli();
    // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails locally, nothing is sent.
    expect(await run(serveArgs('192.0.2.1:0'), cli.ctx)).toBe(2);
    const err = cli.stderr();
    expect(count(err, 'cannot listen on 192.0.2.1:0')).toBe(1);
    expect(err).toMatch(/startup_failed .*code=listen_address .*hint="use an address of this machine/);
    expect(count(err, 'use an address of this machine')).toBe(1);
  });

  it('a port in use may free up: exit 1 (systemd restarts), said once', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const cli = captureCli();
      expect(await run(serveArgs(`127.0.0.1:${port}`), cli.ctx)).toBe(1);
      expect(count(cli.stderr(), 'the port is already in use')).toBe(1);
      expect(count(cli.stderr(), 'stop the other program')).toBe(1);
    } finally {
      blocker.close();
    }
  });
});

describe('isConfigurationFailure', () => {
  const wrapped = (code: string) => Object.assign(new Error('cannot listen'), { code: 'listen_address', cause: Object.assign(new Error(code), { code }) });
  it('an unresolvable host or a foreign address: yes; a temporary DNS failure or anything else: no', () => {
    expect(isConfigurationFailure(wrapped('ENOTFOUND'))).toBe(true);
    expect(isConfigurationFailure(wrapped('EADDRNOTAVAIL'))).toBe(true);
    expect(isConfigurationFailure(wrapped('EAI_AGAIN'))).toBe(false);
    expect(isConfigurationFailure(wrapped('EADDRINUSE'))).toBe(false);
    expect(isConfigurationFailure(new Error('boom'))).toBe(false);
    expect(isConfigurationFailure(undefined)).toBe(false);
  });
});
