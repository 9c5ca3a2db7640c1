/**
 * ECMA-419 Digital IO (`embedded:io/digital`, Moddable modules/io). `initialValue`
 * (ECMA-419 2nd edition) sets the output latch before the pin becomes an output,
 * so a relay never glitches at boot.
 */
declare module 'embedded:io/digital' {
  type Mode = number & { readonly __digitalMode: unique symbol };
  type Edge = number;
  export default class Digital {
    static readonly Input: Mode;
    static readonly InputPullUp: Mode;
    static readonly InputPullDown: Mode;
    static readonly InputPullUpDown: Mode;
    static readonly Output: Mode;
    static readonly OutputOpenDrain: Mode;
    static readonly Rising: Edge;
    static readonly Falling: Edge;
    constructor(options: {
      pin: number;
      mode: Mode;
      edge?: Edge;
      initialValue?: 0 | 1;
      onReadable?: (this: Digital) => void;
    });
    read(): 0 | 1;
    write(value: 0 | 1): void;
    close(): void;
  }
}
