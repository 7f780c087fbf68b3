// The web page's write credential (--http-token-hash): a random token people keep, stored only as a salted scrypt hash
// (the config file may be read by whoever backs it up). scrypt runs in libuv's pool, so a
// check never blocks the event loop; the last token that matched is remembered by its
// SHA-256, so a person clicking through writes pays the key derivation once.
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { TOKEN_HASH_RE } from '../config/options-web.js';

const PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function derive(token: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(token, salt, 32, PARAMS, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new token (24 random bytes, base64url: 32 characters to copy). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The stored form of `token`, at once (setup: one hash, no event loop to keep free). */
export function hashTokenSync(token: string): string {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('hex')}:${scryptSync(token, salt, 32, PARAMS).toString('hex')}`;
}

/** The stored form of `token`. */
export async function hashToken(token: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('hex')}:${(await derive(token, salt)).toString('hex')}`;
}

export class TokenChecker {
  private remembered: Buffer | null = null;

  constructor(private stored: string) {}

  /** A reload may set, change or remove the hash. */
  update(stored: string): void {
    if (stored !== this.stored) this.remembered = null;
    this.stored = stored;
  }

  get configured(): boolean {
    return this.stored !== '';
  }

  async check(token: string): Promise<boolean> {
    const m = TOKEN_HASH_RE.exec(this.stored);
    if (!m || token.length === 0 || token.length > 256) return false;
    const quick = createHash('sha256').update(token).digest();
    if (this.remembered && timingSafeEqual(quick, this.remembered)) return true;
    const stored = this.stored;
    const key = await derive(token, Buffer.from(m[1], 'hex'));
    const ok = timingSafeEqual(key, Buffer.from(m[2], 'hex'));
    if (ok && this.stored === stored) this.remembered = quick;
    return ok;
  }
}
