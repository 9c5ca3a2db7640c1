/** The Moddable SDK's `mont` module, which the SDK ships without typings (see ec.d.ts). */
declare module 'mont' {
  /** Arithmetic mod m (Montgomery form inside the native code). */
  export default class Mont {
    constructor(options: { m: bigint });
    mul(a: bigint, b: bigint): bigint;
    mulinv(a: bigint): bigint;
    exp(a: bigint, e: bigint): bigint;
  }
}
