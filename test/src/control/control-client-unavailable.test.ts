// What `status`/`top` say when the control socket accepts but does not greet.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient, ControlUnavailableError } from '../../../src/control/control-client.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(onConn: (s: net.Socket) => void): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-cc-'));
  const p = path.join(dir, 'control.sock');
  const server = net.createServer(onConn);
  servers.push(server);
  await new Promise<void>((r) => server.listen(p, r));
  return p;
}

describe('ControlClient.connect when the daemon cannot greet', () => {
  it('a connection closed at once without a byte means the daemon is out of file descriptors', async () => {
    // This is exactly what libuv does with an accept() that fails with EMFILE.
    const p = await serve((s) => s.destroy());
    const err = await ControlClient.connect(p, { timeoutMs: 2000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ControlUnavailableError);
    expect(err.code).toBe('no_descriptors');
    expect(err.message).toMatch(/^the daemon is out of file descriptors/);
    expect(err.message).not.toMatch(/version/);
    expect(err.hint).toMatch(/LimitNOFILE/);
  });

  it('a partial line then close is still a bad hello', async () => {
    const p = await serve((s) => s.end('{"type":'));
    const err = await ControlClient.connect(p, { timeoutMs: 2000 }).catch((e) => e);
    expect(err.code).toBe('bad_hello');
  });
});
