/**
 * The firmware hashes and signs with the Moddable SDK's native arithmetic
 * (firmware/platform/moddable/crypto/primitives.ts, swapped in for protocol/primitives.ts
 * by manifest.json). Here both run the same cases — the native one on the real XS machine
 * in mcsim (test/firmware/mcsim-platform/cases.js), preloaded as the firmware preloads it, and protocol/'s (noble) in Node — and
 * must give the same bytes for every function: SHA-256, key from seed, public key,
 * point (de)compression, RFC 6979 signatures, and verification, including every way a
 * signature or key can be wrong. Then protocol/ecdsa.ts on top of each.
 *
 * The random cases come from a seed the test prints; HELIOS_PRIMITIVES_SEED=N replays one.
 * Skipped without the SDK, except under CI=true.
 */
import test from 'ava';
import * as P from '../../protocol/primitives.ts';
import * as ecdsa from '../../protocol/ecdsa.ts';
import { canonicalize, fromHex, toBase64url, toHex, utf8Encode } from '../../protocol/index.ts';
import { runCasesOnXs } from '../helpers/platformCheck.ts';
import { RFC6979_SECRET } from '../protocol/vectors.ts';

type Arg = string | { text: string };
interface Case { name: string; fn: string; args: Arg[] }

const N = P.CURVE_ORDER;
const PRIME = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const int32 = (x: bigint) => x.toString(16).padStart(64, '0');

/** A seeded byte source (xorshift32), so a failing run can be replayed. */
function randomBytes(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => Uint8Array.from({ length: n }, () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x & 0xff;
  });
}

function cases(seed: number): Case[] {
  const rnd = randomBytes(seed);
  const out: Case[] = [];
  const add = (name: string, fn: string, ...args: Arg[]) => out.push({ name, fn, args });
  const rfcKey = RFC6979_SECRET;
  const hexOf = (s: string) => toHex(utf8Encode(s));

  // SHA-256 across the padding boundaries (55/56/64 bytes) and longer.
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) add(`sha256 of ${n} bytes`, 'sha256', toHex(rnd(n)));

  // Keys: from seeds, the range's ends, and what is not a key.
  const keys: string[] = [rfcKey, int32(1n), int32(2n), int32(N - 1n)];
  for (let i = 0; i < 12; i++) {
    const seedBytes = toHex(rnd(48));
    add(`key ${i} from a 48-byte seed`, 'secretKeyFromSeed', seedBytes);
    add(`key pair ${i} from the same entropy (protocol/ecdsa generateKeyPair)`, 'generateKeyPair', seedBytes);
    keys.push(toHex(P.secretKeyFromSeed(fromHex(seedBytes))));
  }
  add('a seed of all 0xff (the reduction mod n−1 wraps)', 'secretKeyFromSeed', 'ff'.repeat(48));
  add('a seed of 32 bytes is refused', 'secretKeyFromSeed', toHex(rnd(32)));
  for (const [name, k] of [['0', int32(0n)], ['n', int32(N)], ['n+1', int32(N + 1n)], ['2^256−1', 'ff'.repeat(32)], ['31 bytes', toHex(rnd(31))], ['33 bytes', toHex(rnd(33))]] as const) {
    add(`isSecretKey(${name})`, 'isSecretKey', k);
    add(`keyPairFromSecret(${name}) is refused`, 'keyPairFromSecret', k);
  }

  const messages = [
    hexOf('sample'), hexOf('test'), '',
    hexOf(canonicalize({ type: 'Reading', grid: 'demo', meter: 'a'.repeat(32), seq: 7, t: 1774098000000, importMWh: 1234567, exportMWh: 89 })),
    hexOf(canonicalize({ type: 'Login', grid: 'demo', ctr: 1001, meter: 'b'.repeat(32), t: 1774098000000, note: 'é€😀' })),
  ];
  keys.forEach((k, i) => {
    add(`isSecretKey(key ${i})`, 'isSecretKey', k);
    add(`publicKeyOf(key ${i})`, 'publicKeyOf', k);
    add(`keyPairFromSecret(key ${i})`, 'keyPairFromSecret', k);
    const pub = P.publicKeyOf(fromHex(k));
    const full = P.uncompressPoint(pub);
    add(`uncompressPoint(key ${i})`, 'uncompressPoint', toHex(pub));
    add(`compressPoint(uncompressed key ${i})`, 'compressPoint', toHex(full));
    add(`compressPoint(compressed key ${i})`, 'compressPoint', toHex(pub));
    add(`decodePublicKey(uncompressed key ${i})`, 'decodePublicKey', { text: toBase64url(full) });
    add(`keyIdOf(key ${i})`, 'keyIdOf', { text: toBase64url(pub) });
    const m = i < messages.length ? messages[i] : toHex(rnd(1 + (rnd(1)[0] * 3)));
    add(`sign(message ${i}, key ${i})`, 'sign', m, k);
    add(`signBytes(message ${i}, key ${i}) (protocol/ecdsa)`, 'signBytes', m, k);
    const sig = P.sign(fromHex(m), fromHex(k));
    add(`verify(a good signature ${i})`, 'verify', toHex(sig), m, toHex(pub));
    add(`verify(a good signature ${i}, uncompressed key)`, 'verify', toHex(sig), m, toHex(full));
    add(`verifyBytes(a good signature ${i}) (protocol/ecdsa, base64url key)`, 'verifyBytes', toHex(sig), m, { text: toBase64url(pub) });
    const flipped = sig.slice();
    flipped[i % 64] ^= 1 << (i % 8);
    add(`verify(signature ${i} with one bit flipped)`, 'verify', toHex(flipped), m, toHex(pub));
    add(`verify(signature ${i} of another message)`, 'verify', toHex(sig), m + '00', toHex(pub));
    const other = P.publicKeyOf(fromHex(keys[(i + 1) % keys.length]));
    add(`verify(signature ${i} under another key)`, 'verify', toHex(sig), m, toHex(other));
  });

  // Every way a signature can be out of range, on the RFC 6979 `sample` signature.
  const sample = P.sign(utf8Encode('sample'), fromHex(rfcKey));
  const pub = toHex(P.publicKeyOf(fromHex(rfcKey)));
  const r = BigInt('0x' + toHex(sample.subarray(0, 32))), s = BigInt('0x' + toHex(sample.subarray(32)));
  const sig = (rr: bigint, ss: bigint) => int32(rr) + int32(ss);
  const msg = hexOf('sample');
  for (const [name, value] of [
    ['the good one', sig(r, s)],
    ['its high-S twin (the same signature, the other encoding)', sig(r, N - s)],
    ['r = 0', sig(0n, s)], ['s = 0', sig(r, 0n)], ['r = n', sig(N, s)], ['r = 2^256 − 1', 'ff'.repeat(32) + int32(s)],
    ['s = n/2 + 1', sig(r, (N >> 1n) + 1n)], ['s = n', sig(r, N)],
    ['63 bytes', sig(r, s).slice(0, 126)], ['65 bytes', sig(r, s) + '00'], ['empty', ''],
  ] as const) {
    add(`verify(sample: ${name})`, 'verify', value, msg, pub);
    add(`verifyBytes(sample: ${name})`, 'verifyBytes', value, msg, { text: toBase64url(fromHex(pub)) });
  }

  // Public keys that are not points on P-256.
  const pubBytes = fromHex(pub);
  let notX = 5n; // an x with no y: x³ + ax + b is not a square mod p
  while (P.compressPoint(fromHex('02' + int32(notX)))) notX++;
  const full = P.uncompressPoint(pubBytes);
  const offCurve = full.slice();
  offCurve[64] ^= 1;
  for (const [name, value] of [
    ['x with no y on the curve', '02' + int32(notX)],
    ['x = p', '02' + int32(PRIME)],
    ['x = 2^256 − 1', '02' + 'ff'.repeat(32)],
    ['prefix 04 on 33 bytes', '04' + toHex(pubBytes.subarray(1))],
    ['prefix 05', '05' + toHex(pubBytes.subarray(1))],
    ['the other y (prefix flipped)', (pubBytes[0] === 2 ? '03' : '02') + toHex(pubBytes.subarray(1))],
    ['uncompressed, y altered', toHex(offCurve)],
    ['uncompressed with prefix 02', '02' + toHex(full.subarray(1))],
    ['32 bytes', toHex(pubBytes.subarray(1))],
    ['the point at infinity (00)', '00'],
    ['empty', ''],
  ] as const) {
    add(`compressPoint(${name})`, 'compressPoint', value);
    add(`verify(sample, key: ${name})`, 'verify', sig(r, s), msg, value);
    if (value.length > 0) add(`decodePublicKey(${name})`, 'decodePublicKey', { text: toBase64url(fromHex(value)) });
  }
  add('decodePublicKey(not base64url)', 'decodePublicKey', { text: 'not*base64' });
  return out;
}

/** What a case gives on Node, in the form check.js prints. */
function expected(c: Case): unknown {
  const args = c.args.map((a) => (typeof a === 'string' ? fromHex(a) : a.text));
  const fns: Record<string, (...a: any[]) => unknown> = {
    sha256: P.sha256, secretKeyFromSeed: P.secretKeyFromSeed, isSecretKey: P.isSecretKey, publicKeyOf: P.publicKeyOf,
    compressPoint: P.compressPoint, uncompressPoint: P.uncompressPoint, sign: P.sign, verify: P.verify,
    keyPairFromSecret: (k: Uint8Array) => { const kp = ecdsa.keyPairFromSecret(k); return { publicKey: kp.publicKey, keyId: kp.keyId }; },
    generateKeyPair: (seed: Uint8Array) => { const kp = ecdsa.generateKeyPair(() => seed); return { secretKey: toHex(kp.secretKey), publicKey: kp.publicKey }; },
    decodePublicKey: ecdsa.decodePublicKey, keyIdOf: ecdsa.keyIdOf, signBytes: ecdsa.signBytes, verifyBytes: ecdsa.verifyBytes,
  };
  try {
    const v = fns[c.fn](...args);
    return v instanceof Uint8Array ? toHex(v) : v === undefined ? null : v;
  } catch (e) {
    return (e as { code?: string }).code ? { error: (e as { code: string }).code } : 'throws';
  }
}

test('the firmware\'s native primitives give protocol/\'s bytes on the real XS machine: hashes, keys, RFC 6979 signatures, and every refusal', async (t) => {
  t.timeout(15 * 60_000);
  const seed = Number(process.env.HELIOS_PRIMITIVES_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (HELIOS_PRIMITIVES_SEED=${seed} replays it)`);
  const list = cases(seed);
  const got = await runCasesOnXs(t, "the firmware's primitives", list);
  if (!got) return;
  const differ = list.flatMap((c, i) => {
    const want = expected(c);
    return JSON.stringify(got.get(i)) === JSON.stringify(want) ? [] : [`${c.name}: XS ${JSON.stringify(got.get(i))}, Node ${JSON.stringify(want)}`];
  });
  t.deepEqual(differ, [], 'XS and Node agree on every case');

  // The RFC's own figure, not just agreement: RFC 6979 A.2.5, P-256, SHA-256, "sample".
  const sampleCase = list.findIndex((c) => c.fn === 'sign' && c.args[0] === toHex(utf8Encode('sample')) && c.args[1] === RFC6979_SECRET);
  t.is(String(got.get(sampleCase)).slice(0, 64), 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716', 'r of RFC 6979 A.2.5 "sample"');
  // The cases exercise both outcomes of every check.
  const verdicts = list.map((c, i) => [c.fn, got.get(i)] as const).filter(([fn]) => fn === 'verify' || fn === 'verifyBytes');
  t.true(verdicts.some(([, v]) => v === true) && verdicts.some(([, v]) => v === false));
  t.true(list.some((c, i) => c.fn === 'compressPoint' && got.get(i) === null), 'some keys refused');
  t.log(`${list.length} cases, all equal`);
});
