/**
 * The cryptographic primitives under every Helios hash and signature — SHA-256 and
 * ECDSA P-256 — here on @noble/curves and @noble/hashes. The rest of protocol/
 * reaches them only through this module, so a platform can put its own in its place
 * under the same module name: the meter firmware's manifest maps `protocol/primitives`
 * to firmware/platform/moddable/primitives.ts (the Moddable SDK's native EC arithmetic
 * and SHA-256, no curve tables in RAM), and test/firmware/mcsim-primitives.test.ts
 * checks on the real XS machine that both give the same bytes for every function here.
 *
 * Keys are bytes: a secret key is a 32-byte big-endian scalar in [1, n−1], a public
 * key a SEC 1 point (33 bytes compressed, 65 uncompressed). Signatures are 64 bytes
 * r‖s with s in the lower half of the group order.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** The order n of P-256's base point. */
export const CURVE_ORDER: bigint = p256.Point.CURVE().n;

const HALF_ORDER = CURVE_ORDER >> 1n;

function scalar(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

/** SHA-256 (FIPS 180-4). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * The secret key for 48 bytes of entropy: the seed as a big-endian integer, reduced
 * mod n−1, plus 1 (FIPS 186-5 A.2.1: 16 bytes more than the scalar, so the bias is
 * negligible). Throws on any other length.
 */
export function secretKeyFromSeed(seed: Uint8Array): Uint8Array {
  if (seed.length !== 48) throw new RangeError(`a key seed is 48 bytes, not ${seed.length}`);
  return p256.utils.randomSecretKey(seed);
}

/** True for 32 bytes encoding an integer in [1, n−1]. */
export function isSecretKey(secretKey: Uint8Array): boolean {
  return secretKey.length === 32 && p256.utils.isValidSecretKey(secretKey);
}

/** The compressed public key (33 bytes) of a valid secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return p256.getPublicKey(secretKey, true);
}

/** The compressed form of a SEC 1 point (33 or 65 bytes), or undefined when it is not a point on P-256. */
export function compressPoint(point: Uint8Array): Uint8Array | undefined {
  if (point.length !== 33 && point.length !== 65) return undefined;
  try {
    return p256.Point.fromBytes(point).toBytes(true);
  } catch {
    return undefined;
  }
}

/** The uncompressed form (65 bytes: 04‖x‖y) of a point already checked by compressPoint. */
export function uncompressPoint(compressed: Uint8Array): Uint8Array {
  return p256.Point.fromBytes(compressed).toBytes(false);
}

/** ECDSA over SHA-256(message) with an RFC 6979 nonce: 64 bytes r‖s, s low. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return p256.sign(message, secretKey, { lowS: true });
}

/**
 * Strict ECDSA verification of SHA-256(message): exactly 64 bytes, 0 < r < n,
 * 0 < s ≤ n/2, a point on the curve, and a valid signature. Anything else is false.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const r = scalar(signature.subarray(0, 32)), s = scalar(signature.subarray(32));
  if (r === 0n || r >= CURVE_ORDER || s === 0n || s > HALF_ORDER) return false;
  try {
    return p256.verify(signature, message, publicKey, { lowS: true });
  } catch {
    return false;
  }
}
