/** SHA-256 (FIPS 180-4) through @noble/hashes, so the same code runs on XS and Node. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from './bytes.ts';
import { canonicalBytes } from './json.ts';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function sha256Hex(data: Uint8Array | string): string {
  return toHex(nobleSha256(typeof data === 'string' ? utf8Encode(data) : data));
}

/** The hash Helios uses as an id for a JSON value: SHA-256 of its RFC 8785 bytes, hex. */
export function hashJson(value: unknown): string {
  return toHex(nobleSha256(canonicalBytes(value)));
}
