/**
 * bench/firmware — what a signed reading costs the meter: ms per reading (sign +
 * encode, and the meter's whole reading path: read energy, persist the record,
 * sign, queue) inside the XS engine, beside the same code on Node and
 * node:crypto (OpenSSL) signing the same bytes in the same run; and the memory a
 * running meter holds in XS.
 *
 *   npm run bench -- firmware      (or: node --import=tsx bench/firmware.ts)
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { canonicalBytes, generateKeyPair, publicKeyCoordinates, signBytes, toBase64url } from '../protocol/index.ts';
import { readingPayload } from '../firmware/core/index.ts';
import { runInXS } from '../test/helpers/xs.ts';
import { fmt, rate, table } from './lib/reference.ts';

let seed = 3;
const entropy = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
const key = generateKeyPair(entropy);
const body = {
  type: 'Reading' as const, grid: 'bench', meter: key.keyId, seq: 1, t: 1774098000000, importMWh: 1234567, exportMWh: 89,
  powerW: -250, relay: 'closed' as const, creditMWh: 316, fw: 'helios-fw 0.1.0',
};
const msg = Buffer.from(canonicalBytes(body));
const { x, y } = publicKeyCoordinates(key.publicKey);
const priv = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y), d: toBase64url(key.secretKey) }, format: 'jwk' });

console.log('bench/firmware — one signed meter reading (RFC 8785 body, ECDSA P-256, envelope as sent)\n');
let s = 1;
const nodeReading = rate(() => readingPayload({ ...body, seq: s++ }, (m) => signBytes(m, key.secretKey)));
const opensslSign = rate(() => nodeSign('sha256', msg, { key: priv, dsaEncoding: 'ieee-p1363' }));

const N = 40;
const SLOT_BYTES_ESP32 = 16; // sizeof(txSlot) on a 32-bit MCU; xsnap on 64-bit Linux uses 32
type Report = { stage: string; n?: number; signEncodeMs?: number; meterReadingMs?: number; payloadBytes?: number; seq?: number; outbox?: number };
const entry = fileURLToPath(new URL('./firmware-xs.ts', import.meta.url));

/** One XS worker per configuration: `window` is the P-256 base-point precompute window (noble's default is 6). */
async function inXS(window: number | undefined) {
  const run = await runInXS<Report>(entry, null, {
    steps: ['gc()', `bench.boot(${window ?? ''})`, 'gc()', `bench.readings(${N})`, 'gc()'],
  });
  const u = run.usage!;
  const base = u.before.currentHeapCount ?? 0;
  const live = (i: number) => (u.steps[i].currentHeapCount ?? 0) - base;
  return { run, r: run.reports.find((x) => x.stage === 'readings')!, loaded: live(0), running: live(2), after: live(4) };
}

const dflt = await inXS(undefined);
const device = await inXS(4);

console.log(table(['a signed reading', 'ms each', 'per second'], [
  ['XS, device setting (window 4): sign + encode', fmt(device.r.signEncodeMs!, 2), fmt(1000 / device.r.signEncodeMs!, 0)],
  ['XS, device setting: whole reading path (energy, persist, sign, queue)', fmt(device.r.meterReadingMs!, 2), fmt(1000 / device.r.meterReadingMs!, 0)],
  ['XS, noble default (window 6): sign + encode', fmt(dflt.r.signEncodeMs!, 2), fmt(1000 / dflt.r.signEncodeMs!, 0)],
  ['Node: sign + encode (same code, window 6)', fmt(1000 / nodeReading, 3), fmt(nodeReading, 0)],
  ['node:crypto (OpenSSL) sign of the same bytes', fmt(1000 / opensslSign, 3), fmt(opensslSign, 0)],
]));
const worst = Math.max(device.r.meterReadingMs!, device.r.signEncodeMs!);
console.log(`\nXS with the device setting is ${fmt((device.r.signEncodeMs! * nodeReading) / 1000, 1)}× the same code on Node; aim ≤ 10 ms per reading: ${worst <= 10 ? 'met' : 'NOT met'}. Envelope: ${device.r.payloadBytes} bytes.`);
console.log(`\nMemory inside XS: live slots after gc(), above an empty xsnap worker (${fmt(dflt.run.bundleBytes / 1024, 1)} KiB es2020 bundle):`);
const kib = (slots: number) => fmt((slots * SLOT_BYTES_ESP32) / 1024, 1);
console.log(table(['stage', 'window 4 (device)', 'KiB', 'window 6 (default)', 'KiB'], [
  ['protocol + core + noble loaded', fmt(device.loaded), kib(device.loaded), fmt(dflt.loaded), kib(dflt.loaded)],
  ['meter booted, first reading signed', fmt(device.running), kib(device.running), fmt(dflt.running), kib(dflt.running)],
  [`after ${N} more readings (outbox ${device.r.outbox} of 60)`, fmt(device.after), kib(device.after), fmt(dflt.after), kib(dflt.after)],
]));
console.log(`\nKiB at ${SLOT_BYTES_ESP32} B/slot as on the ESP32. Slots only: xsnap does not meter the chunk heap (strings, BigInt digits,`);
console.log('ArrayBuffers), where the precomputed points\' coordinates live too; on a device, preloaded modules sit in flash, not RAM.');
