/**
 * bench/protocol — signatures per second in Node (protocol's @noble code and
 * node:crypto) beside OpenSSL's P-256 rate measured in the same run, and ms per
 * sign / verify inside the XS engine.
 *
 *   npm run bench -- protocol      (or: node --import=tsx bench/protocol.ts)
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { canonicalBytes, generateKeyPair, publicKeyCoordinates, signBody, signBytes, toBase64url, verifyBytes } from '../protocol/index.ts';
import { runInXS } from '../test/helpers/xs.ts';
import { fmt, opensslP256, rate, table } from './lib/reference.ts';

let seed = 1;
const entropy = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
const key = generateKeyPair(entropy);
const reading = {
  type: 'Reading', grid: 'bench', meter: key.keyId, seq: 1, t: 1774098000000, importMWh: 1234567, exportMWh: 89,
  powerW: -250, relay: 'closed', creditMWh: 316, fw: 'helios-fw 0.1.0',
};
const msg = canonicalBytes(reading);
const sig = signBytes(msg, key.secretKey);

const { x, y } = publicKeyCoordinates(key.publicKey);
const jwk = { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y) };
const pub = createPublicKey({ key: jwk, format: 'jwk' });
const priv = createPrivateKey({ key: { ...jwk, d: toBase64url(key.secretKey) }, format: 'jwk' });
const msgBuf = Buffer.from(msg);
const sigBuf = Buffer.from(sig);

console.log('bench/protocol — P-256 ECDSA over SHA-256, message = one canonical meter reading (%d bytes)\n', msg.length);
const ossl = opensslP256(3, 1);
const nobleSign = rate(() => signBytes(msg, key.secretKey));
const nobleVerify = rate(() => verifyBytes(sig, msg, key.publicKey));
const nobleSignReading = rate(() => signBody({ ...reading, seq: reading.seq + 1 }, key.secretKey));
const nodeSignRate = rate(() => nodeSign('sha256', msgBuf, { key: priv, dsaEncoding: 'ieee-p1363' }));
const nodeVerifyRate = rate(() => nodeVerify('sha256', msgBuf, { key: pub, dsaEncoding: 'ieee-p1363' }, sigBuf));

console.log(table(['operation (1 core)', 'per second', 'vs OpenSSL'], [
  ['OpenSSL `speed ecdsap256` sign', fmt(ossl.signPerSec), '1.00'],
  ['OpenSSL `speed ecdsap256` verify', fmt(ossl.verifyPerSec), '1.00'],
  ['protocol (noble) sign', fmt(nobleSign), fmt(nobleSign / ossl.signPerSec, 3)],
  ['protocol (noble) sign reading (JCS + sign)', fmt(nobleSignReading), fmt(nobleSignReading / ossl.signPerSec, 3)],
  ['protocol (noble) verify', fmt(nobleVerify), fmt(nobleVerify / ossl.verifyPerSec, 3)],
  ['node:crypto sign (cached KeyObject)', fmt(nodeSignRate), fmt(nodeSignRate / ossl.signPerSec, 3)],
  ['node:crypto verify (cached KeyObject)', fmt(nodeVerifyRate), fmt(nodeVerifyRate / ossl.verifyPerSec, 3)],
]));

const xs = await runInXS<{ signMs: number; verifyMs: number; signReadingMs: number; n: number }>(
  fileURLToPath(new URL('./protocol-xs.ts', import.meta.url)),
);
const r = xs.reports[0];
console.log(`\nInside XS (@agoric/xsnap, this machine, ${r.n} iterations after warm-up; bundle ${fmt(xs.bundleBytes / 1024, 1)} KiB):`);
console.log(table(['operation (XS)', 'ms each'], [
  ['sign (64-byte r‖s)', fmt(r.signMs, 2)],
  ['sign a reading (JCS + sign)', fmt(r.signReadingMs, 2)],
  ['verify', fmt(r.verifyMs, 2)],
]));
