/**
 * Protocol vectors computed by protocol/ code alone, so the very same function can
 * run in Node and, bundled, in the XS engine; the two outputs must be identical to
 * the byte. Expected values from the standards are asserted in protocol.test.ts.
 */
import {
  AckMessage, canonicalize, CreditTokenBody, decode, escrowMicroHec, fromBase64url, fromHex, generateKeyPair, hashJson,
  decodeSigned, isHeliosError, keyIdOf, keyPairFromSecret, LoginBody, merkleRoot, parseJson, parseJsonText, paymentMicroHec, ReadingBody, sha256Hex,
  signBody, signBytes, signed, toBase64url, toHex, TxBody, utf8Decode, utf8Encode, verifyBody, verifyBytes, type Schema,
} from '../../protocol/index.ts';

export const RFC6979_SECRET = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';

/** Values given as code (not text) so no parser is involved in building them. */
export const CANONICAL_INPUTS: unknown[] = [
  { b: 2, a: 1, c: { z: [3, 2, 1], y: null } },
  { escaping: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/', other: [null, true, false] },
  {
    '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis',
  },
  [0, -0, 1, -1, 9007199254740991, -9007199254740991, 1000000],
  { empty: {}, list: [], s: '', nested: [[[]]], t: true },
  'a\u0000b\u001fc\u007fd\u2028e',
];

export const BAD_CANONICAL_INPUTS: unknown[] = [1.5, NaN, Infinity, 9007199254740992, '\ud800', { ['\udc00']: 1 }, [0.1]];

export const JSON_TEXTS: string[] = [
  '{"a":1,"b":[true,false,null],"c":"x"}',
  ' { "z" : -0 , "y" : "\\u00e9\\ud83d\\ude00" } ',
  '{"a":1,"a":2}',
  '{"n":1.0}',
  '{"n":1e3}',
  '{"n":9007199254740993}',
  '{"s":"\\ud800"}',
  '{"s":"\\udc00x"}',
  '[1,2,]',
  '{"a":01}',
  '{"a":"tab\there"}',
  '"unterminated',
  '{"__proto__":{"polluted":true}}',
  '[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]',
  'nul',
  '{} {}',
];

/** Texts that differ from canonical JSON in one way each (and two that do not). */
export const CANONICITY_TEXTS: string[] = [
  '{"a":1,"b":[true,false,null],"c":"x"}',
  '"\\u001f\\n\\"\\\\"',
  '{"b":1,"a":2}',
  '{"a":1, "b":2}',
  '{"a":-0}',
  '{"a":"\\/"}',
  '{"a":"\\u0041"}',
  '{"a":"\\u001F"}',
  '{"a":"\\u000a"}',
  '{"a":"\\ud83d\\ude00"}',
  '{"\u20ac":1,"\ud83d\ude00":2}',
  '{"\ufb33":1,"\ud83d\ude00":2}',
  '{"\ud83d\ude00":1,"\ufb33":2}',
  ' 1',
];

/** UTF-8 byte strings, valid and not: overlong, surrogate, beyond U+10FFFF, truncated, stray continuation, bad lead. */
export const UTF8_INPUTS: number[][] = [
  [0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbb, 0xbf, 0x41], [],
  [0xc0, 0x80], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff],
];

const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];

function verdict(f: () => unknown): string {
  try {
    const v = f();
    return 'OK ' + canonicalize(v);
  } catch (e) {
    if (isHeliosError(e)) return `${e.code}${e.path ? ' @' + e.path : ''}`;
    return 'THROW ' + String((e as Error).message);
  }
}

/** A deterministic byte generator (xorshift), standing in for hardware entropy in vectors. */
export function testEntropy(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

const N_HEX = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

export function meterKey() {
  return generateKeyPair(testEntropy(42));
}

export function sampleReading(meter: string) {
  return {
    type: 'Reading', grid: 'demo', meter, seq: 7, t: 1774098000000, importMWh: 1234567, exportMWh: 89,
    powerW: -250, relay: 'closed', creditMWh: 316, fw: 'helios-fw 0.1.0',
  };
}

/** Messages to validate, each with the schema to validate against. */
function validationCases(meter: string): Array<[string, Schema<unknown>, string]> {
  const r = sampleReading(meter);
  const env = (body: unknown) => JSON.stringify({ body, sig: 'A'.repeat(86) });
  const tx = {
    type: 'Transfer', grid: 'demo', signer: meter, nonce: 1, t: 1774098000000, to: 'zarak@example.org', amountMicroHec: 3000000,
  };
  const signedReading = signed(ReadingBody) as Schema<unknown>;
  const signedTx = signed(TxBody) as Schema<unknown>;
  return [
    ['reading ok', signedReading, env(r)],
    ['reading extra field', signedReading, env({ ...r, extra: 1 })],
    ['reading missing seq', signedReading, env({ ...r, seq: undefined })],
    ['reading seq zero', signedReading, env({ ...r, seq: 0 })],
    ['reading seq string', signedReading, env({ ...r, seq: '7' })],
    ['reading negative import', signedReading, env({ ...r, importMWh: -1 })],
    ['reading relay half', signedReading, env({ ...r, relay: 'half' })],
    ['reading bad meter id', signedReading, env({ ...r, meter: 'METER-1' })],
    ['reading long fw', signedReading, env({ ...r, fw: 'x'.repeat(33) })],
    ['reading short sig', signedReading, JSON.stringify({ body: r, sig: 'abc' })],
    ['reading float', signedReading, env(r).replace('"powerW":-250', '"powerW":-250.5')],
    ['reading oversized', signedReading, env({ ...r, fw: 'x'.repeat(3000) })],
    ['transfer ok', signedTx, env(tx)],
    ['transfer zero', signedTx, env({ ...tx, amountMicroHec: 0 })],
    ['transfer bad email', signedTx, env({ ...tx, to: 'Zarak@Example.org' })],
    ['unknown tx type', signedTx, env({ ...tx, type: 'Steal' })],
    ['pvoffer ok', signedTx, env({ type: 'PVOffer', grid: 'demo', signer: meter, nonce: 2, t: 1, listing: '2026-03-21T13:00Z', meter, energyMWh: 28000 })],
    ['pvoffer bad listing', signedTx, env({ type: 'PVOffer', grid: 'demo', signer: meter, nonce: 2, t: 1, listing: '2026-03-21 13:00', meter, energyMWh: 28000 })],
    ['buyoffer huge energy', signedTx, env({ type: 'BuyOffer', grid: 'demo', signer: meter, nonce: 2, t: 1, listing: '2026-03-21T13:00Z', meter, energyMWh: 2000000000, bidPriceMicroHecPerKWh: 5 })],
    ['register bad key', signedTx, env({ type: 'RegisterParticipant', grid: 'demo', signer: meter, nonce: 1, t: 1, name: 'Asad', email: 'asad@example.org', role: 'consumer', publicKey: 'A'.repeat(44) })],
    ['ack ok', AckMessage as Schema<unknown>, JSON.stringify({ type: 'Ack', meter, seq: 7, t: 5 })],
    ['credit ok', signed(CreditTokenBody) as Schema<unknown>, env({ type: 'CreditToken', grid: 'demo', meter, energyMWh: 317, validFrom: 0, validUntil: 60000, nonce: meter, issuer: meter })],
    ['login no times', signed(LoginBody) as Schema<unknown>, env({ type: 'Login', grid: 'demo', id: meter, client: meter, ctr: 3 })],
    ['duplicate key', signedReading, env(r).replace('"seq":7', '"seq":7,"seq":8')],
  ];
}

export interface VectorResults {
  canonical: string[];
  canonicalHex: string[];
  badCanonical: string[];
  parsed: string[];
  canonicity: string[];
  utf8: string[];
  decodedSigned: string[];
  sha256: string[];
  merkleCT: string[];
  merkleLarge: string[];
  rfc6979: { publicKey: string; keyId: string; sample: string; test: string };
  keygen: { publicKey: string; keyId: string; secret: string };
  signedReading: { sig: string; id: string };
  verify: Record<string, boolean>;
  validation: string[];
  units: number[];
  base64url: string[];
}

export function computeVectors(): VectorResults {
  const canonical = CANONICAL_INPUTS.map((v) => canonicalize(v));
  const rfcKey = keyPairFromSecret(fromHex(RFC6979_SECRET));
  const enc = (s: string) => utf8Encode(s);
  const sample = signBytes(enc('sample'), rfcKey.secretKey);
  const test = signBytes(enc('test'), rfcKey.secretKey);

  const meter = meterKey();
  const reading = sampleReading(meter.keyId);
  const sr = signBody(reading, meter.secretKey);
  const srBytes = fromBase64url(sr.sig);

  const highS = new Uint8Array(64);
  highS.set(srBytes.subarray(0, 32));
  // s' = n − s: the same signature in its high-S form.
  const s = BigInt('0x' + toHex(srBytes.subarray(32)));
  const sHigh = BigInt('0x' + N_HEX) - s;
  highS.set(fromHex(sHigh.toString(16).padStart(64, '0')), 32);
  const rZero = new Uint8Array(64); rZero.set(srBytes.subarray(32), 32);
  const sN = new Uint8Array(64); sN.set(srBytes.subarray(0, 32)); sN.set(fromHex(N_HEX), 32);
  const other = generateKeyPair(testEntropy(7));
  const msg = utf8Encode(canonicalize(reading));

  const large: string[] = [];
  for (const n of [9, 16, 17, 31, 100]) {
    const items: Uint8Array[] = [];
    for (let i = 0; i < n; i++) items.push(utf8Encode(`reading-${i}`));
    large.push(toHex(merkleRoot(items)));
  }

  return {
    canonical,
    canonicalHex: canonical.map((c) => toHex(utf8Encode(c))),
    badCanonical: BAD_CANONICAL_INPUTS.map((v) => verdict(() => canonicalize(v))),
    parsed: JSON_TEXTS.map((t) => verdict(() => parseJson(t))),
    canonicity: CANONICITY_TEXTS.map((t) => verdict(() => parseJsonText(t).canonical)),
    utf8: UTF8_INPUTS.map((b) => verdict(() => utf8Decode(new Uint8Array(b)))),
    decodedSigned: [
      canonicalize(sr),
      `{ "sig": ${JSON.stringify(sr.sig)}, "body": ${JSON.stringify(sr.body, null, 1)} }`,
    ].map((text) => verdict(() => {
      const d = decodeSigned(text, signed(ReadingBody), 2048);
      return [d.bodyText === canonicalize(d.body), d.envelopeText === canonicalize(sr), verifyBody(d, meter.publicKey), toHex(d.bodyBytes) === toHex(utf8Encode(d.bodyText))];
    })).concat([canonicalize(sr), `{"sig":${JSON.stringify(sr.sig)},"body":${canonicalize(sr.body)}}`].map((text) => verdict(() => {
      const d = decodeSigned(utf8Encode(text), signed(ReadingBody), 2048);
      return [d.bodyText === canonicalize(d.body), toHex(d.bodyBytes) === toHex(utf8Encode(d.bodyText)), verifyBytes(fromBase64url(d.sig), d.bodyBytes, meter.publicKey)];
    }))),
    sha256: ['', 'abc', canonical[0]].map((t) => sha256Hex(t)).concat([hashJson(reading)]),
    merkleCT: Array.from({ length: 9 }, (_, n) => toHex(merkleRoot(CT_LEAVES.slice(0, n).map(fromHex)))),
    merkleLarge: large,
    rfc6979: { publicKey: rfcKey.publicKey, keyId: rfcKey.keyId, sample: toHex(sample), test: toHex(test) },
    keygen: { publicKey: meter.publicKey, keyId: meter.keyId, secret: toHex(meter.secretKey) },
    signedReading: { sig: sr.sig, id: hashJson(sr.body) },
    verify: {
      valid: verifyBody(sr, meter.publicKey),
      alteredBody: verifyBody({ body: { ...reading, importMWh: reading.importMWh + 1 }, sig: sr.sig }, meter.publicKey),
      highS: verifyBytes(highS, msg, meter.publicKey),
      rZero: verifyBytes(rZero, msg, meter.publicKey),
      sEqualsN: verifyBytes(sN, msg, meter.publicKey),
      short: verifyBytes(srBytes.subarray(0, 63), msg, meter.publicKey),
      long: verifyBytes(new Uint8Array([...srBytes, 0]), msg, meter.publicKey),
      wrongKey: verifyBody(sr, other.publicKey),
      keyIdMatches: keyIdOf(meter.publicKey) === meter.keyId,
    },
    validation: validationCases(meter.keyId).map(([name, schema, text]) => `${name}: ${verdict(() => decode(text, schema, 2048))}`),
    units: [
      paymentMicroHec(317, 9_463_722_397), escrowMicroHec(317, 9_463_722_397),
      paymentMicroHec(1, 1), escrowMicroHec(1, 1), paymentMicroHec(1_000_000_000, 1_000_000_000_000),
    ],
    base64url: [new Uint8Array([]), new Uint8Array([0]), new Uint8Array([0xfb, 0xff]), new Uint8Array([1, 2, 3, 4])].map(toBase64url),
  };
}
