/** The Moddable SDK's `hmac` module, which the SDK ships without typings (see ec.d.ts). */
declare module 'hmac' {
  import type { Digest } from 'crypt';
  export default class HMAC {
    constructor(hash: Digest, key: ArrayBuffer, bitLength?: number);
    update(...data: ArrayBuffer[]): void;
    close(): ArrayBuffer;
  }
}
