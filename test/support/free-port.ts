// Free TCP ports on 127.0.0.1 for servers a test starts itself (PostgreSQL, a daemon whose
// second bus listens on port + 1). Free when asked: another process may still take one before
// the test binds it, so the pair is checked by binding both, not guessed.
import net from 'node:net';

function listen(port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const close = (s: net.Server): Promise<void> => new Promise((r) => s.close(() => r()));

export async function freePort(): Promise<number> {
  const s = await listen(0);
  if (!s) throw new Error('no free TCP port on 127.0.0.1');
  const port = (s.address() as net.AddressInfo).port;
  await close(s);
  return port;
}

/** A port p such that p and p + 1 were both free a moment ago. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    if (!first) continue;
    const p = (first.address() as net.AddressInfo).port;
    const second = p < 65535 ? await listen(p + 1) : null;
    await close(first);
    if (second) {
      await close(second);
      return p;
    }
  }
  throw new Error('no two consecutive free TCP ports on 127.0.0.1 in 50 tries');
}
