// Fast P-256 verification on OpenSSL (node:crypto), with the same strictness as
// protocol/ecdsa.ts: exactly 64 bytes r‖s, 0 < r < n, 0 < s ≤ n/2. OpenSSL itself
// accepts high-S signatures, so the low-S rule is enforced here first.
// Plain JavaScript so worker threads can load it without a TypeScript loader.
import { createPublicKey, verify } from 'node:crypto';

const N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
const HALF_N = Buffer.from('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8', 'hex');
const ZERO = Buffer.alloc(32);

const cache = new Map();
const MAX_CACHED = 100_000;

/** KeyObject for a base64url SEC1 public key (compressed or not), cached. Throws on a bad key. */
export function keyObject(publicKey) {
  let k = cache.get(publicKey);
  if (!k) {
    const raw = Buffer.from(publicKey, 'base64url');
    // SPKI DER prefix for id-ecPublicKey / prime256v1, then the SEC1 point.
    const prefix = raw.length === 33
      ? Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex')
      : Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
    k = createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value);
    cache.set(publicKey, k);
  }
  return k;
}

/** True when sig (64 bytes, Uint8Array) is a strict low-S P-256/SHA-256 signature of message by publicKey. */
export function verifyP256(publicKey, message, sig) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  const b = Buffer.from(sig.buffer, sig.byteOffset, 64);
  const r = b.subarray(0, 32);
  const s = b.subarray(32, 64);
  if (r.equals(ZERO) || s.equals(ZERO) || Buffer.compare(r, N) >= 0 || Buffer.compare(s, HALF_N) > 0) return false;
  let key;
  try {
    key = keyObject(publicKey);
  } catch {
    return false;
  }
  return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, b);
}
