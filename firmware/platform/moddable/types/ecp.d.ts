/** The Moddable SDK's `ecp` module, which the SDK ships without typings (see ec.d.ts). */
declare module 'ecp' {
  /** A point; x and y are affine after ec's mul, z is 0n for the point at infinity. */
  export default class ECPoint {
    constructor(x: bigint, y: bigint, identity?: boolean);
    x: bigint;
    y: bigint;
    z: bigint;
    get X(): bigint;
    get Y(): bigint;
  }
}
