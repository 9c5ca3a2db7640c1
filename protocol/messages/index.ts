/** Decoding messages from the wire: size limit, strict JSON, schema, then signature (by the caller, who knows the key). */
import { fail, ProtocolCodes as C } from '../errors.ts';
import { utf8Decode } from '../bytes.ts';
import { parseJson } from '../json.ts';
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
  return schema.parse(parseJson(text, { maxLength: maxBytes }), '');
}
