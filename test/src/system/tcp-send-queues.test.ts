// The kernel's unacknowledged bytes for a real loopback connection, read from /proc.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseIp } from '../../../src/guard/address-list.js';
import { tcpKey } from '../../../src/guard/write-ledger.js';
import { FdReserve } from '../../../src/system/fd-reserve.js';
import { procTcpSendQueues } from '../../../src/system/tcp-send-queues.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function pair(host: string): Promise<{ server: net.Socket; client: net.Socket }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const client = net.connect({ port: (srv.address() as net.AddressInfo).port, host });
  const server = await accepted;
  cleanups.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

describe('procTcpSendQueues', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`sees the bytes a stalled reader leaves in the sender's kernel (${host})`, async () => {
      const { server, client } = await pair(host);
      client.pause();
      const chunk = Buffer.alloc(64 * 1024, 1);
      // Write until Node itself has to buffer: the kernel then holds all it will take.
      for (let i = 0; i < 400 && server.writableLength === 0; i++) server.write(chunk);
      await new Promise((r) => setTimeout(r, 50));
      const key = tcpKey(server.localPort!, parseIp(server.remoteAddress!)!, server.remotePort!);
      const map = await procTcpSendQueues().read();
      expect(map).not.toBeNull();
      expect(map!.get(key)).toBeGreaterThan(0);
      // The reader resumes: the kernel's queue empties.
      client.resume();
      client.on('data', () => {});
      let left = -1;
      for (let i = 0; i < 100 && left !== 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        left = (await procTcpSendQueues().read())!.get(key) ?? 0;
      }
      expect(left).toBe(0);
    });
  }

  it('returns null (and stops trying) when /proc cannot be read', async () => {
    const q = procTcpSendQueues(['/nonexistent/tcp']);
    expect(await q.read()).toBeNull();
    expect(await q.read()).toBeNull();
  });
});

describe('FdReserve', () => {
  it('holds descriptors and gives them back', () => {
    const r = new FdReserve(4);
    expect(r.fill()).toBe(4);
    expect(r.held).toBe(4);
    expect(r.release()).toBe(4);
    expect(r.held).toBe(0);
  });
});
