/**
 * Moddable `sntp` (modules/network/sntp), RFC 4330. The callback gets 1 and the
 * time in seconds since the epoch, 2 when retrying, or -1 and a reason; on -1 it
 * may return the next server to try.
 */
declare module 'sntp' {
  export default class SNTP {
    constructor(options: { host: string }, callback: (message: number, value?: number | string) => string | void);
    close(): void;
  }
}
