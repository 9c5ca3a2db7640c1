/**
 * ECDSA P-256 over SHA-256, the one signature scheme of Helios (meters, households,
 * authorities). Signatures are 64-byte r‖s (IEEE P1363) with s in the lower half of
 * the group order: a second valid encoding of the same signature would let anyone
 * change a transaction's bytes without its key, so high-S is refused on input.
 * Nonces are deterministic (RFC 6979), so signing never needs a random source —
 * only key generation does, and the caller supplies that entropy (on an ESP32, its
 * hardware RNG through the platform adapter).
 */
import { fail, ProtocolCodes as C } from './errors.ts';
import { fromBase64url, toBase64url, toHex } from './bytes.ts';
import { canonicalBytes } from './json.ts';
import * as P from './primitives.ts';

/** Returns n cryptographically random bytes. */
export type EntropySource = (n: number) => Uint8Array;

export interface KeyPair {
  /** 32-byte big-endian scalar. Never leaves the device or keystore that made it. */
  secretKey: Uint8Array;
  /** SEC1 compressed point, base64url (44 characters). */
  publicKey: string;
  /** Short id of the public key (see keyIdOf). */
  keyId: string;
}

/** A message body with its signature over the body's RFC 8785 bytes. */
export interface Signed<T> {
  body: T;
  /** base64url of r‖s (86 characters). */
  sig: string;
}

export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 33;
/** Bytes of entropy drawn per key: 16 more than the scalar, so reducing mod n is unbiased (FIPS 186-5 A.2.1). */
export const KEYGEN_ENTROPY_BYTES = 48;


/** Make a key pair from caller-supplied entropy (48 bytes are requested). */
export function generateKeyPair(entropy: EntropySource): KeyPair {
  const seed = entropy(KEYGEN_ENTROPY_BYTES);
  if (!(seed instanceof Uint8Array) || seed.length !== KEYGEN_ENTROPY_BYTES) {
    fail(C.BAD_ENTROPY, `entropy source returned ${seed instanceof Uint8Array ? seed.length + ' bytes' : typeof seed}; ${KEYGEN_ENTROPY_BYTES} bytes are needed`);
  }
  let same = true;
  for (let i = 1; i < seed.length; i++) if (seed[i] !== seed[0]) same = false;
  if (same) fail(C.BAD_ENTROPY, 'entropy source returned constant bytes; is the hardware RNG running?');
  return keyPairFromSecret(P.secretKeyFromSeed(seed));
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (!(secretKey instanceof Uint8Array) || !P.isSecretKey(secretKey)) {
    fail(C.BAD_KEY, 'secret key must be 32 bytes encoding an integer in [1, n−1]');
  }
  const pub = P.publicKeyOf(secretKey);
  const publicKey = toBase64url(pub);
  return { secretKey, publicKey, keyId: keyIdOfBytes(pub) };
}

/**
 * Keys already checked to be points on the curve, with their compressed form and
 * key id. Checking a compressed key means a square root mod p (~0.4 ms in plain
 * ECMAScript), and the same key is checked on admission, in the block, in replay.
 * Bounded: when full it starts again. Made at the first use, not when the module
 * loads: the firmware preloads this module, and a Map made at preload is in flash,
 * where XS cannot change it.
 */
let decodedKeys: Map<string, { compressed: Uint8Array; keyId?: string }> | undefined;
const DECODED_KEYS_MAX = 16_384;
function remember(publicKey: string, entry: { compressed: Uint8Array; keyId?: string }): void {
  decodedKeys ??= new Map();
  if (decodedKeys.size >= DECODED_KEYS_MAX) decodedKeys.clear();
  decodedKeys.set(publicKey, entry);
}

/** Decode and validate a public key (base64url SEC1, compressed or uncompressed) to its compressed bytes. */
export function decodePublicKey(publicKey: string): Uint8Array {
  const known = decodedKeys?.get(publicKey);
  if (known) return known.compressed.slice();
  let raw: Uint8Array;
  try {
    raw = fromBase64url(publicKey);
  } catch {
    return fail(C.BAD_KEY, 'public key is not base64url');
  }
  if (raw.length !== 33 && raw.length !== 65) fail(C.BAD_KEY, `public key has ${raw.length} bytes; a P-256 SEC1 key has 33 (compressed) or 65`);
  const compressed = P.compressPoint(raw);
  if (!compressed) return fail(C.BAD_KEY, 'public key is not a point on P-256');
  remember(publicKey, { compressed });
  return compressed.slice();
}

/** Uncompressed coordinates, for importing the key into node:crypto or WebCrypto as a JWK. */
export function publicKeyCoordinates(publicKey: string): { x: Uint8Array; y: Uint8Array } {
  const u = P.uncompressPoint(decodePublicKey(publicKey));
  return { x: u.slice(1, 33), y: u.slice(33, 65) };
}

function keyIdOfBytes(compressed: Uint8Array): string {
  return toHex(P.sha256(compressed).slice(0, 16));
}

/**
 * The id of a key: the first 16 bytes of SHA-256 over its compressed SEC1 encoding,
 * as 32 lowercase hex characters. Meter ids, household MQTT ids and block authors are
 * key ids, so an id can never name a different key than the one that signs for it.
 */
export function keyIdOf(publicKey: string): string {
  const known = decodedKeys?.get(publicKey);
  if (known?.keyId) return known.keyId;
  const keyId = keyIdOfBytes(decodePublicKey(publicKey));
  const entry = decodedKeys?.get(publicKey);
  if (entry) entry.keyId = keyId;
  return keyId;
}

/** Sign arbitrary bytes: ECDSA P-256, SHA-256, RFC 6979 nonce, low-S, 64-byte r‖s. */
export function signBytes(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return P.sign(message, secretKey);
}

/**
 * Strict verification: exactly 64 bytes, 0 < r < n, 0 < s ≤ n/2, and a valid
 * signature of SHA-256(message) under the key. Anything else is false.
 */
export function verifyBytes(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array | string): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  let pub: Uint8Array;
  try {
    pub = typeof publicKey === 'string' ? decodePublicKey(publicKey) : publicKey;
  } catch {
    return false;
  }
  return P.verify(signature, message, pub);
}

/** Sign a message body: the signature covers the body's RFC 8785 canonical bytes. */
export function signBody<T>(body: T, secretKey: Uint8Array): Signed<T> {
  return { body, sig: toBase64url(signBytes(canonicalBytes(body), secretKey)) };
}

/**
 * A strict verifier with verifyBytes' rules (64 bytes, 0 < r < n, 0 < s ≤ n/2): a
 * platform may supply a faster one (OpenSSL on Node, a crypto peripheral).
 */
export type VerifyFn = (signature: Uint8Array, message: Uint8Array, publicKey: string) => boolean;

/** True when `signed.sig` is a valid strict signature of `signed.body` by `publicKey`. */
export function verifyBody(signed: Signed<unknown>, publicKey: string, verify: VerifyFn = verifyBytes): boolean {
  let sig: Uint8Array;
  try {
    sig = fromBase64url(signed.sig);
  } catch {
    return false;
  }
  return verify(sig, canonicalBytes(signed.body), publicKey);
}

/** As verifyBody, but throws E_BAD_SIGNATURE naming what was signed and by whom. */
export function assertSignedBy(signed: Signed<unknown>, publicKey: string, what: string, verify?: VerifyFn): void {
  if (!verifyBody(signed, publicKey, verify)) {
    fail(C.BAD_SIGNATURE, `${what}: signature does not verify with key ${keyIdOf(publicKey)}; it was altered or signed with another key`, 'sig');
  }
}

/** The low-S form of an r‖s signature (for interop with signers that do not normalise, e.g. OpenSSL). */
export function normalizeLowS(signature: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) fail(C.BAD_SIGNATURE, `signature has ${signature.length} bytes; expected 64`);
  const s = BigInt('0x' + toHex(signature.subarray(32, 64)));
  if (s <= P.CURVE_ORDER >> 1n) return signature;
  const out = new Uint8Array(64);
  out.set(signature.subarray(0, 32), 0);
  const hex = (P.CURVE_ORDER - s).toString(16).padStart(64, '0');
  for (let i = 0; i < 32; i++) out[32 + i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
