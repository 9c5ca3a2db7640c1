/**
 * The Moddable SDK's elliptic-curve and HMAC modules (modules/crypt/arith: ec.js + ec.c,
 * ecp.js, mont.js + mont.c, modular.js + modular.c; modules/crypt/etc/hmac.js), which
 * the SDK ships without typings. Only what firmware/platform/moddable/crypto/primitives.ts uses.
 */
declare module 'ec' {
  import type ECPoint from 'ecp';
  /** The curve y² = x³ + ax + b over the integers mod m. */
  export default class EC {
    constructor(a: bigint, b: bigint, m: bigint);
    mul(point: ECPoint, k: bigint): ECPoint;
    /** k1·a1 + k2·a2, as the native code returns it (its z is 0n at infinity). */
    _mul2(a1: ECPoint, k1: bigint, a2: ECPoint, k2: bigint): { x: bigint; y: bigint; z: bigint };
  }
}
