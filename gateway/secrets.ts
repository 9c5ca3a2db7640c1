/** Operator credentials: stored only as a scrypt hash; compared in constant time. */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface SecretHash {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  saltHex: string;
  hashHex: string;
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): SecretHash {
  const salt = randomBytes(16);
  const params = { N: 1 << 14, r: 8, p: 1 };
  return { name: 'scrypt', ...params, saltHex: salt.toString('hex'), hashHex: scryptSync(secret, salt, 32, params).toString('hex') };
}

/** Checks a secret against its hash; successful checks are remembered (by SHA-256) so repeated logins stay cheap. */
export class SecretChecker {
  private readonly ok = new Set<string>();
  constructor(private readonly hash: SecretHash) {}

  check(secret: string): boolean {
    const fp = createHash('sha256').update(secret).digest('hex');
    if (this.ok.has(fp)) return true;
    const h = this.hash;
    const got = scryptSync(secret, Buffer.from(h.saltHex, 'hex'), 32, { N: h.N, r: h.r, p: h.p });
    const good = timingSafeEqual(got, Buffer.from(h.hashHex, 'hex'));
    if (good) this.ok.add(fp);
    return good;
  }
}
