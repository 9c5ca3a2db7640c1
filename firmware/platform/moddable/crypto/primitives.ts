/**
 * protocol/primitives.ts for the meter: the same functions, byte for byte, on the
 * Moddable SDK's native arithmetic instead of @noble — manifest.json maps the module
 * `protocol/primitives` here, so protocol/ecdsa.ts and protocol/hash.ts run on it.
 *
 * - SHA-256 and HMAC-SHA256: the SDK's `crypt` Digest (C) and `hmac`.
 * - Point arithmetic: `ec` (ec.c: P-256 in Jacobian coordinates, Montgomery
 *   multiplication), scalar inverses and powers: `mont`/`modular` (mont.c, modular.c).
 * - Signing: RFC 6979 §3.2's deterministic nonce from HMAC-SHA256, low-S.
 *
 * Why: noble in RAM holds ~10,000 slots for its base-point table and code, and
 * preloading it into flash trips an XS 8.2.3 bug; the native code holds ~100 slots and
 * signs 2× faster (docs/performance.md "Firmware on XS", `npm run bench -- xs-curves`).
 *
 * This module is preloaded (manifest.json "preload"), so its constants are made by
 * the build and live in flash. XS 8.2.3 says a BigInt made at preload is not === (nor
 * ==) an equal one made at run time (bench/xs-bigint-rom), so nothing here compares
 * BigInts for equality: only < and >, through `same` and `isZero`. The SDK's own
 * ec.js tests the point at infinity with `z == 0n`; the `_mul`/`_mul2` entry points
 * used here return the raw Jacobian result and `z` is tested here instead.
 *
 * Not constant-time: ec.c's scalar multiplication branches on the scalar's bits, so
 * signing time depends on the nonce. Someone who can time many signatures of a meter
 * can learn about its key; someone with that access can also read its flash
 * (docs/security.md, "Limits").
 */
import { Digest } from 'crypt';
import EC from 'ec';
import ECPoint from 'ecp';
import HMAC from 'hmac';
import Mont from 'mont';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const A = 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;
const HALF_N = N >> 1n;

export const CURVE_ORDER: bigint = N;

const same = (a: bigint, b: bigint): boolean => !(a < b) && !(a > b);
const isZero = (a: bigint): boolean => !(a < 0n) && !(a > 0n);

/** The SDK's arithmetic objects, made at the first use (in RAM; a few slots). */
let arith: { ec: EC; g: ECPoint; n: Mont; p: Mont } | undefined;
function math(): { ec: EC; g: ECPoint; n: Mont; p: Mont } {
  arith ??= { ec: new EC(A, B, P), g: new ECPoint(GX, GY), n: new Mont({ m: N }), p: new Mont({ m: P }) };
  return arith;
}

const buffer = (b: Uint8Array): ArrayBuffer => (b.buffer as ArrayBuffer).slice(b.byteOffset, b.byteOffset + b.byteLength);
const toInt = (b: Uint8Array): bigint => BigInt.fromArrayBuffer(buffer(b));
/** 32 bytes big-endian of 0 ≤ x < 2^256 (XS's fromBigInt takes the length as a second argument). */
const bytes32 = (x: bigint): Uint8Array => new Uint8Array((ArrayBuffer.fromBigInt as (v: bigint, length: number) => ArrayBuffer)(x, 32));

export function sha256(data: Uint8Array): Uint8Array {
  const d = new Digest('SHA256');
  d.write(buffer(data));
  return new Uint8Array(d.close());
}

function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = new HMAC(new Digest('SHA256'), buffer(key));
  for (const part of parts) h.update(buffer(part));
  return new Uint8Array(h.close());
}

export function secretKeyFromSeed(seed: Uint8Array): Uint8Array {
  if (seed.length !== 48) throw new RangeError(`a key seed is 48 bytes, not ${seed.length}`);
  return bytes32(toInt(seed) % (N - 1n) + 1n);
}

export function isSecretKey(secretKey: Uint8Array): boolean {
  if (secretKey.length !== 32) return false;
  const d = toInt(secretKey);
  return d > 0n && d < N;
}

function compressed(x: bigint, y: bigint): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = (y & 1n) > 0n ? 3 : 2;
  out.set(bytes32(x), 1);
  return out;
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (!isSecretKey(secretKey)) throw new RangeError('not a P-256 secret key');
  const { ec, g } = math();
  const q = ec.mul(g, toInt(secretKey));
  return compressed(q.X, q.Y);
}

/** y² for x on P-256: x³ + ax + b mod p. */
function rhs(x: bigint): bigint {
  return ((x * x % P) * x + A * x + B) % P;
}

/** The affine point of a SEC 1 encoding (33 or 65 bytes), or undefined when it is not on the curve. */
function decode(point: Uint8Array): { x: bigint; y: bigint } | undefined {
  if (point.length === 65) {
    if (point[0] !== 4) return undefined;
    const x = toInt(point.subarray(1, 33)), y = toInt(point.subarray(33));
    if (!(x < P) || !(y < P) || !same(y * y % P, rhs(x))) return undefined;
    return { x, y };
  }
  if (point.length !== 33 || (point[0] !== 2 && point[0] !== 3)) return undefined;
  const x = toInt(point.subarray(1));
  if (!(x < P)) return undefined;
  const y2 = rhs(x);
  // p ≡ 3 (mod 4): a square root of y² is y²^((p+1)/4), if y² is a square at all.
  let y = math().p.exp(y2, (P + 1n) >> 2n);
  if (!same(y * y % P, y2)) return undefined;
  if (Number(y & 1n) !== (point[0] & 1)) y = (P - y) % P;
  return { x, y };
}

export function compressPoint(point: Uint8Array): Uint8Array | undefined {
  const q = decode(point);
  return q && compressed(q.x, q.y);
}

export function uncompressPoint(point: Uint8Array): Uint8Array {
  const q = decode(point);
  if (!q) throw new RangeError('not a point on P-256');
  const out = new Uint8Array(65);
  out[0] = 4;
  out.set(bytes32(q.x), 1);
  out.set(bytes32(q.y), 33);
  return out;
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!isSecretKey(secretKey)) throw new RangeError('not a P-256 secret key');
  const { ec, g, n } = math();
  const e = toInt(sha256(message));
  const d = toInt(secretKey);
  // RFC 6979 §3.2 with int2octets(x) = the key's 32 bytes and bits2octets(h1) = (h1 mod n) as 32 bytes.
  const x = secretKey, h = bytes32(e % N);
  let k8 = hmacSha256(new Uint8Array(32), new Uint8Array(32).fill(1), Uint8Array.of(0), x, h);
  let v = hmacSha256(k8, new Uint8Array(32).fill(1));
  k8 = hmacSha256(k8, v, Uint8Array.of(1), x, h);
  v = hmacSha256(k8, v);
  for (;;) {
    v = hmacSha256(k8, v);
    const k = toInt(v);
    if (k > 0n && k < N) {
      const r = ec.mul(g, k).X % N;
      if (r > 0n) {
        let s = n.mul(e + d * r % N, n.mulinv(k));
        if (s > 0n) {
          if (s > HALF_N) s = N - s;
          const out = new Uint8Array(64);
          out.set(bytes32(r), 0);
          out.set(bytes32(s), 32);
          return out;
        }
      }
    }
    k8 = hmacSha256(k8, v, Uint8Array.of(0));
    v = hmacSha256(k8, v);
  }
}

export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const r = toInt(signature.subarray(0, 32)), s = toInt(signature.subarray(32));
  if (!(r > 0n && r < N && s > 0n && !(s > HALF_N))) return false;
  const q = decode(publicKey);
  if (!q) return false;
  const { ec, g, n } = math();
  const e = toInt(sha256(message));
  const w = n.mulinv(s);
  const R = ec._mul2(g, n.mul(e, w), new ECPoint(q.x, q.y), n.mul(r, w));
  return !isZero(R.z) && same(R.x % N, r);
}
