/** Decoding messages from the wire: size limit, strict JSON, schema, then signature (by the caller, who knows the key). */
import { fail, ProtocolCodes as C } from '../errors.ts';
import { utf8Decode, utf8Encode } from '../bytes.ts';
import { canonicalize, parseJsonText } from '../json.ts';
import { object, type Schema } from '../schema.ts';
import { signature } from './fields.ts';
import type { Signed } from '../ecdsa.ts';

export * from './fields.ts';
export * from './meter.ts';
export * from './transactions.ts';
export * from './chain.ts';
export * from './market.ts';

/** Largest message accepted on a meter topic (a reading is ~400 bytes). */
export const MAX_METER_MESSAGE_BYTES = 2048;

/** Schema of a signed envelope around `body`. */
export function signed<T>(body: Schema<T>): Schema<Signed<T>> {
  return object({ body, sig: signature() }) as unknown as Schema<Signed<T>>;
}

/**
 * Decode a payload (bytes or text) into a value of `schema`: size first (cheap, and
 * before any parsing), then strict JSON, then the schema. Throws a HeliosError.
 */
export function decode<T>(payload: Uint8Array | string, schema: Schema<T>, maxBytes: number): T {
  const size = typeof payload === 'string' ? payload.length : payload.length;
  if (size > maxBytes) fail(C.TOO_LARGE, `message is ${size} bytes; the limit here is ${maxBytes}`);
  const text = typeof payload === 'string' ? payload : utf8Decode(payload);
  return schema.parse(parseJsonText(text, { maxLength: maxBytes }).value, '');
}

/** A signed envelope, decoded, with the texts a receiver verifies and keeps. */
export interface DecodedSigned<T> extends Signed<T> {
  /** Canonical text of the body: what the signature covers. */
  bodyText: string;
  /** Canonical text of the whole envelope. */
  envelopeText: string;
  /** UTF-8 bytes of bodyText (a view into the payload when it arrived as canonical bytes). */
  bodyBytes: Uint8Array;
}

const BODY_PREFIX = '{"body":';

/**
 * Decode a signed envelope (as `decode` does) and give the canonical text of its
 * body. Every Helios signer sends its envelope canonically, and then that text is a
 * slice of what arrived: the envelope is exactly `{"body":` + body + `,"sig":"` +
 * sig + `"}`, since "body" sorts before "sig" and a signature is base64url. Anything
 * else is written out canonically.
 */
export function decodeSigned<T>(payload: Uint8Array | string, schema: Schema<Signed<T>>, maxBytes: number): DecodedSigned<T> {
  const size = payload.length;
  if (size > maxBytes) fail(C.TOO_LARGE, `message is ${size} bytes; the limit here is ${maxBytes}`);
  const text = typeof payload === 'string' ? payload : utf8Decode(payload);
  const { value, canonical } = parseJsonText(text, { maxLength: maxBytes });
  const env = schema.parse(value, '');
  const suffix = env.sig.length + 10; // ,"sig":" … "}
  if (canonical && text.startsWith(BODY_PREFIX) && text.length > BODY_PREFIX.length + suffix) {
    const bodyText = text.slice(BODY_PREFIX.length, text.length - suffix);
    // The prefix and suffix are ASCII, so they are as many bytes as characters.
    const bodyBytes = typeof payload === 'string' ? utf8Encode(bodyText) : payload.subarray(BODY_PREFIX.length, payload.length - suffix);
    return { body: env.body, sig: env.sig, bodyText, envelopeText: text, bodyBytes };
  }
  const bodyText = canonicalize(env.body);
  return { body: env.body, sig: env.sig, bodyText, envelopeText: `${BODY_PREFIX}${bodyText},"sig":${JSON.stringify(env.sig)}}`, bodyBytes: utf8Encode(bodyText) };
}
