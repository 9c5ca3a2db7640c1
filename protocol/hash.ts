/** SHA-256 as Helios uses it: of bytes, of text, of a JSON value (primitives.ts computes it). */
import { toHex, utf8Encode } from './bytes.ts';
import { canonicalBytes } from './json.ts';
import { sha256 } from './primitives.ts';

export { sha256 };

export function sha256Hex(data: Uint8Array | string): string {
  return toHex(sha256(typeof data === 'string' ? utf8Encode(data) : data));
}

/** The hash Helios uses as an id for a JSON value: SHA-256 of its RFC 8785 bytes, hex. */
export function hashJson(value: unknown): string {
  return toHex(sha256(canonicalBytes(value)));
}
