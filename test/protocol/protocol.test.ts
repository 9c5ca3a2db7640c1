import test from 'ava';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { computeVectors, RFC6979_SECRET, type VectorResults } from './vectors.ts';
import { runInXS } from '../helpers/xs.ts';
import fc from 'fast-check';
import {
  canonicalize, fromBase64url, fromHex, keyPairFromSecret, normalizeLowS, parseJsonText, publicKeyCoordinates, toBase64url,
  utf8Decode, utf8DecodePortable, utf8Encode, verifyBytes,
} from '../../protocol/index.ts';

const entry = fileURLToPath(new URL('./xs-entry.ts', import.meta.url));
const node = computeVectors();

function nodeKeyObject(publicKey: string): KeyObject {
  const { x, y } = publicKeyCoordinates(publicKey);
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y) }, format: 'jwk' });
}

// node:crypto signs with random nonces and does not normalise s; give XS a mix.
const nodeKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const nodeJwk = nodeKeys.publicKey.export({ format: 'jwk' });
const nodePublic = toBase64url(new Uint8Array([4, ...fromBase64url(nodeJwk.x as string), ...fromBase64url(nodeJwk.y as string)]));
const nodeItems = Array.from({ length: 12 }, (_, i) => {
  const msg = `message ${i} from node:crypto \u00e9`;
  const raw = nodeSign('sha256', Buffer.from(msg), { key: nodeKeys.privateKey, dsaEncoding: 'ieee-p1363' });
  return { msg, raw: new Uint8Array(raw), sig: toBase64url(normalizeLowS(new Uint8Array(raw))) };
});

const xs = runInXS<unknown>(entry, { publicKey: nodePublic, items: nodeItems.map(({ msg, sig }) => ({ msg, sig })) });

test('RFC 8785: the examples within the Helios subset canonicalise exactly', (t) => {
  // §3.2.2 (strings and literals; the RFC's float array is outside our integer subset).
  t.is(node.canonical[1], '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","other":[null,true,false]}');
  // §3.2.3 sorting by UTF-16 code units, with the UTF-8 bytes the RFC gives.
  t.is(node.canonical[2], '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  t.true(node.canonicalHex[2].startsWith('7b225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c22c280223a22'));
  t.true(node.canonicalHex[2].includes('22f09f9880223a22456d6f6a69'));
  // Integers: -0 is 0 (Appendix B), safe-integer extremes in plain decimal.
  t.is(node.canonical[3], '[0,0,1,-1,9007199254740991,-9007199254740991,1000000]');
  t.is(node.canonical[0], '{"a":1,"b":2,"c":{"y":null,"z":[3,2,1]}}');
  // Control characters as \u00xx in lowercase hex; DEL and U+2028 are left as they are.
  t.is(node.canonical[5], '"a\\u0000b\\u001fc\u007fd\u2028e"');
});

test('canonical JSON refuses floats, NaN, unsafe integers and lone surrogates', (t) => {
  t.deepEqual(node.badCanonical, [
    'E_NOT_INTEGER', 'E_NOT_INTEGER', 'E_NOT_INTEGER', 'E_UNSAFE_INTEGER', 'E_LONE_SURROGATE', 'E_LONE_SURROGATE', 'E_NOT_INTEGER @[0]',
  ]);
});

test('the strict parser refuses duplicate keys, fractions, big integers, lone surrogates and bad syntax', (t) => {
  t.deepEqual(node.parsed, [
    'OK {"a":1,"b":[true,false,null],"c":"x"}',
    'OK {"y":"é😀","z":0}',
    'E_DUPLICATE_KEY @a',
    'E_NOT_INTEGER @n',
    'E_NOT_INTEGER @n',
    'E_UNSAFE_INTEGER @n',
    'E_LONE_SURROGATE @s',
    'E_LONE_SURROGATE @s',
    'E_MALFORMED_JSON',
    'E_MALFORMED_JSON',
    'E_MALFORMED_JSON',
    'E_MALFORMED_JSON',
    'OK {"__proto__":{"polluted":true}}',
    'E_TOO_DEEP @[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]',
    'E_MALFORMED_JSON',
    'E_MALFORMED_JSON',
  ]);
  t.is(({} as Record<string, unknown>).polluted, undefined, 'a "__proto__" member must not touch Object.prototype');
});

test('the parser tells a canonical text from one that only means the same, and a signed body is then read from what arrived', (t) => {
  t.deepEqual(node.canonicity, [
    'OK true', 'OK true', // as written by canonicalize
    'OK false', 'OK false', 'OK false', // members out of order, whitespace, -0
    'OK false', 'OK false', 'OK false', 'OK false', 'OK false', // escapes JSON.stringify does not write: \/, \u0041, \u001F, \u000a, an escaped emoji
    'OK true', // € before 😀: U+20AC < U+D83D
    'OK false', 'OK true', // by UTF-16 code units 😀 (D83D) sorts before דּ (FB33), though its code point is higher (RFC 8785 §3.2.3)
    'OK false', // leading whitespace
  ]);
  // Whatever the rendering, "canonical" means exactly "the text is canonicalize(value)".
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' },
      fc.constantFrom(null, true, false, 0, -1, 9007199254740991), fc.integer(), fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ unit: fc.constantFrom('"', '\\', '/', '\u0000', '\u001f', '\u007f', '\u2028', 'a', '\n'), maxLength: 4 }),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\u20ac', '\ufb33', '\ud83d\ude00'), maxLength: 2 }), tie('v'), { maxKeys: 4 })),
  })).v;
  const renderings = (v: unknown): string[] => [canonicalize(v), JSON.stringify(v), JSON.stringify(v, null, 1), JSON.stringify(v).replace(/\//g, '\\/')];
  fc.assert(fc.property(value, (v) => {
    for (const text of renderings(v)) {
      const r = parseJsonText(text);
      if (r.canonical !== (text === canonicalize(r.value))) return false;
    }
    return parseJsonText(canonicalize(v)).canonical;
  }), { numRuns: 500 });
  t.deepEqual(node.decodedSigned, ['OK [true,true,true,true]', 'OK [true,true,true,true]', 'OK [true,true,true]', 'OK [true,true,true]']);
});

test('UTF-8: the platform decoder and the portable one agree, and both refuse what is not UTF-8', (t) => {
  t.deepEqual(node.utf8, [
    'OK "Aé€😀"', 'OK "\ufeffA"', 'OK ""',
    ...Array.from({ length: 7 }, () => 'E_MALFORMED_JSON'),
  ]);
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const b = utf8Encode(s);
    return utf8Decode(b) === s && utf8DecodePortable(b) === s;
  }), { numRuns: 1000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
    const verdict = (f: () => string) => { try { return f(); } catch (e) { return (e as { code?: string }).code ?? 'THROW'; } };
    return verdict(() => utf8Decode(b)) === verdict(() => utf8DecodePortable(b));
  }), { numRuns: 5000 });
  t.pass();
});

test('SHA-256 and RFC 6962 Merkle roots match the published vectors', (t) => {
  t.is(node.sha256[0], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.is(node.sha256[1], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // Certificate Transparency's reference tree heads for 0…8 leaves.
  t.deepEqual(node.merkleCT, [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ]);
});

test('RFC 6979 A.2.5 (P-256, SHA-256): keys, r and s reproduce, s in its low-S form', (t) => {
  const k = keyPairFromSecret(fromHex(RFC6979_SECRET));
  const { x, y } = publicKeyCoordinates(k.publicKey);
  t.is(Buffer.from(x).toString('hex').toUpperCase(), '60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6');
  t.is(Buffer.from(y).toString('hex').toUpperCase(), '7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299');
  const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
  // "sample": the RFC's s = F7CB…CDA8 is above n/2, so Helios emits n − s.
  t.is(node.rfc6979.sample.slice(0, 64), 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716');
  t.is(BigInt('0x' + node.rfc6979.sample.slice(64)), n - BigInt('0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8'));
  // "test": s is already low, so both halves are the RFC's bytes.
  t.is(node.rfc6979.test, 'f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083');
  // The RFC's own (high-S) signature is refused; its normalised form verifies.
  const rfcSample = fromHex('efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8');
  t.false(verifyBytes(rfcSample, utf8Encode('sample'), k.publicKey));
  t.true(verifyBytes(normalizeLowS(rfcSample), utf8Encode('sample'), k.publicKey));
});

test('strict verification refuses high-S, r = 0, s = n, wrong length and the wrong key', (t) => {
  t.deepEqual(node.verify, {
    valid: true, alteredBody: false, highS: false, rZero: false, sEqualsN: false, short: false, long: false, wrongKey: false, keyIdMatches: true,
  });
});

test('message validation gives each malformed field its own stable code', (t) => {
  const codes = node.validation.map((v) => v.replace(/: OK .*/, ': OK'));
  t.deepEqual(codes, [
    'reading ok: OK',
    'reading extra field: E_UNKNOWN_FIELD @body.extra',
    'reading missing seq: E_MISSING_FIELD @body.seq',
    'reading seq zero: E_OUT_OF_RANGE @body.seq',
    'reading seq string: E_WRONG_TYPE @body.seq',
    'reading negative import: E_OUT_OF_RANGE @body.importMWh',
    'reading relay half: E_BAD_FORMAT @body.relay',
    'reading bad meter id: E_BAD_FORMAT @body.meter',
    'reading long fw: E_TOO_LONG @body.fw',
    'reading short sig: E_BAD_FORMAT @sig',
    'reading float: E_NOT_INTEGER @body.powerW',
    'reading oversized: E_TOO_LARGE',
    'transfer ok: OK',
    'transfer zero: E_OUT_OF_RANGE @body.amountMicroHec',
    'transfer bad email: E_BAD_FORMAT @body.to',
    'unknown tx type: E_UNKNOWN_TYPE @body.type',
    'pvoffer ok: OK',
    'pvoffer bad listing: E_BAD_FORMAT @body.listing',
    'buyoffer huge energy: E_OUT_OF_RANGE @body.energyMWh',
    'register bad key: E_BAD_KEY @body.publicKey',
    'ack ok: OK',
    'credit ok: OK',
    'login no times: OK',
    'duplicate key: E_DUPLICATE_KEY @body.seq',
  ]);
});

test('the rounding rule: a payment rounds down, escrow rounds up, never by a whole µHEC more', (t) => {
  // 317 mWh at the paper's 3 tokens per 19 W·min unit.
  t.deepEqual(node.units, [2_999_999, 3_000_000, 0, 1, 1_000_000_000_000_000]);
});

test('XS runs the same vectors and gets byte-identical results', async (t) => {
  const { reports } = await xs;
  const { engine } = reports[0] as { engine: { hasPrint: boolean; hasProcess: boolean; hasBuffer: boolean } };
  // xsnap's XS has `print` and none of Node's globals: this really ran in XS.
  t.deepEqual(engine, { hasPrint: true, hasProcess: false, hasBuffer: false });
  const inXS = reports[1] as VectorResults;
  t.is(JSON.stringify(inXS), JSON.stringify(node));
});

test('signatures from node:crypto verify in protocol code running in XS', async (t) => {
  const { reports } = await xs;
  t.deepEqual(reports[2], nodeItems.map(() => true));
  // and in Node: normalised ones verify, un-normalised high-S ones are refused as malleable.
  for (const item of nodeItems) {
    t.true(verifyBytes(fromBase64url(item.sig), utf8Encode(item.msg), nodePublic));
    const high = BigInt('0x' + Buffer.from(item.raw.subarray(32)).toString('hex')) > BigInt('0x7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8');
    t.is(verifyBytes(item.raw, utf8Encode(item.msg), nodePublic), !high);
  }
});

test('signatures made in XS verify with node:crypto', async (t) => {
  const { reports } = await xs;
  const made = reports[3] as { publicKey: string; items: Array<{ msg: string; sig: string }> };
  const key = nodeKeyObject(made.publicKey);
  t.is(made.items.length, 4);
  for (const { msg, sig } of made.items) {
    t.true(nodeVerify('sha256', Buffer.from(msg, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, fromBase64url(sig)), msg);
    t.false(nodeVerify('sha256', Buffer.from(msg + '.', 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, fromBase64url(sig)));
  }
});
