/** Runs inside XS for bench/protocol.ts. */
import { canonicalBytes, generateKeyPair, signBody, signBytes, verifyBytes } from '../protocol/index.ts';

let seed = 7;
const key = generateKeyPair((n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
const reading = {
  type: 'Reading', grid: 'bench', meter: key.keyId, seq: 1, t: 1774098000000, importMWh: 1234567, exportMWh: 89,
  powerW: -250, relay: 'closed', creditMWh: 316, fw: 'helios-fw 0.1.0',
};
const msg = canonicalBytes(reading);
const n = 40;
for (let i = 0; i < 5; i++) signBytes(msg, key.secretKey); // warm-up: precomputed tables
let t0 = Date.now();
let sig = signBytes(msg, key.secretKey);
for (let i = 1; i < n; i++) sig = signBytes(msg, key.secretKey);
const signMs = (Date.now() - t0) / n;
t0 = Date.now();
for (let i = 0; i < n; i++) signBody({ ...reading, seq: i + 2 }, key.secretKey);
const signReadingMs = (Date.now() - t0) / n;
t0 = Date.now();
for (let i = 0; i < n; i++) verifyBytes(sig, msg, key.publicKey);
const verifyMs = (Date.now() - t0) / n;
report({ signMs, verifyMs, signReadingMs, n });
