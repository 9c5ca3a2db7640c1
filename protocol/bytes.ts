/**
 * Byte helpers that run unchanged on XS and Node: no Buffer, no TextEncoder
 * (XS on a device may be built without it), no Node built-ins.
 */
import { fail, ProtocolCodes } from './errors.ts';

/** UTF-8 encode. Lone surrogates are an error, never silently replaced (RFC 8785 §3.2.2.2 needs valid Unicode). */
export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) {
        fail(ProtocolCodes.LONE_SURROGATE, `string has a lone surrogate U+${c.toString(16).toUpperCase()} at index ${i}; only valid Unicode can be encoded`);
      }
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}

interface StrictDecoder { decode(b: Uint8Array): string }
/** The platform's own strict decoder where there is one (Node, browsers); XS may have none. */
const nativeDecoder: StrictDecoder | undefined = (() => {
  const TD = (globalThis as { TextDecoder?: new (label: string, o: { fatal: boolean; ignoreBOM: boolean }) => StrictDecoder }).TextDecoder;
  try {
    return TD ? new TD('utf-8', { fatal: true, ignoreBOM: true }) : undefined;
  } catch {
    return undefined;
  }
})();

/** Strict UTF-8 decode: overlong forms, surrogates and truncated sequences are errors. */
export function utf8Decode(b: Uint8Array): string {
  if (nativeDecoder) {
    try {
      return nativeDecoder.decode(b);
    } catch {
      // Not UTF-8: the portable decoder below says where and why.
    }
  }
  return utf8DecodePortable(b);
}

/** utf8Decode in plain ECMAScript, the same on every engine. */
export function utf8DecodePortable(b: Uint8Array): string {
  let s = '';
  let chunk: number[] = [];
  const flush = () => {
    s += String.fromCharCode.apply(null, chunk);
    chunk = [];
  };
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let cp: number;
    let need: number;
    let min: number;
    if (c < 0x80) { cp = c; need = 0; min = 0; }
    else if ((c & 0xe0) === 0xc0) { cp = c & 0x1f; need = 1; min = 0x80; }
    else if ((c & 0xf0) === 0xe0) { cp = c & 0x0f; need = 2; min = 0x800; }
    else if ((c & 0xf8) === 0xf0) { cp = c & 0x07; need = 3; min = 0x10000; }
    else fail(ProtocolCodes.MALFORMED_JSON, `invalid UTF-8 lead byte 0x${c.toString(16)} at offset ${i}`);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined) fail(ProtocolCodes.MALFORMED_JSON, `truncated UTF-8 sequence at offset ${i}`);
      if ((cc & 0xc0) !== 0x80) fail(ProtocolCodes.MALFORMED_JSON, `invalid UTF-8 continuation at offset ${i + k}`);
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      fail(ProtocolCodes.MALFORMED_JSON, `invalid UTF-8 code point at offset ${i}`);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      chunk.push(cp);
    }
    // Every code unit is an argument of fromCharCode.apply, on the engine's stack: the meter's XS stack holds
    // 768 slots, and a Restore (~700 bytes) decoded in one go aborted the firmware with a stack overflow.
    if (chunk.length >= 256) flush();
    i += need + 1;
  }
  flush();
  return s;
}

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    fail(ProtocolCodes.BAD_FORMAT, `expected an even-length hex string, got ${JSON.stringify(s.slice(0, 20))}`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX: Record<string, number> = {};
for (let i = 0; i < 64; i++) B64URL_INDEX[B64URL[i]] = i;

/** base64url without padding (RFC 4648 §5), as used in JSON fields. */
export function toBase64url(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  if (i + 1 === b.length) {
    const n = b[i] << 16;
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
  } else if (i + 2 === b.length) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
  }
  return s;
}

/** Strict base64url decode: no padding, no whitespace, canonical trailing bits. */
export function fromBase64url(s: string): Uint8Array {
  if (s.length % 4 === 1) fail(ProtocolCodes.BAD_FORMAT, `base64url string has an impossible length ${s.length}`);
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64URL_INDEX[s[i]];
    if (v === undefined) fail(ProtocolCodes.BAD_FORMAT, `invalid base64url character ${JSON.stringify(s[i])} at index ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    fail(ProtocolCodes.BAD_FORMAT, 'base64url string is not canonical (non-zero trailing bits)');
  }
  return out.slice(0, n);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
