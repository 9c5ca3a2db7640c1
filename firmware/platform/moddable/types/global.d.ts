/**
 * Globals of the XS runtime in the Moddable SDK that the firmware uses.
 * Our own minimal declarations (the SDK is not installed where CI runs).
 */
/** Write to the debug console (xsbug, or the serial port in a release build). */
declare function trace(...values: unknown[]): void;

interface ArrayBufferConstructor {
  /** XS: the UTF-8 bytes of a string as an ArrayBuffer. */
  fromString(s: string): ArrayBuffer;
}

interface StringConstructor {
  /** XS: a string from UTF-8 bytes. */
  fromArrayBuffer(b: ArrayBuffer): string;
}
