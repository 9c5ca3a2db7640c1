/**
 * bench/xs-curves — the three ways for the meter firmware to sign on XS, measured in
 * mcsim in one run (docs/performance.md, "Firmware on XS"):
 *   (a) @noble/curves preloaded (its tables built by xsl, in flash)
 *   (b) @noble/curves loaded at run time, as the firmware ships
 *   (c) the SDK's native EC arithmetic with an RFC 6979 nonce: firmware/platform/moddable/crypto/primitives.ts
 * Each option is its own build of this folder's app (mc/config "curve"), run in mcsim
 * one after the other. Prints sign and verify ms (mean of ROUNDS, a Reading body),
 * whether every signature is byte-identical to protocol/'s signBytes (RFC 6979 A.2.5
 * "sample" and "test", and firmware bodies: messages.js), the memory mcsim's
 * instrumentation reports, and OpenSSL's P-256 sign in this process for a reference.
 *
 *   MODDABLE=… npm run bench -- xs-curves      (~2 min with the three builds, ~20 s cached)
 *
 * mcsim runs 64-bit: a slot is 32 bytes there and 16 on an ESP32; slot and stack
 * counts are the same on both.
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findSdk, repoRoot, startMcsim, type Sdk } from '../../simulator/mcsim.ts';
import { publicKeyCoordinates, keyPairFromSecret, signBytes, toBase64url, canonicalize } from '../../protocol/index.ts';
import { fmt, rate, table } from '../lib/reference.ts';
// @ts-expect-error plain JavaScript shared with the XS app
import { EXTRA, extra, KEY, MESSAGES, PUBLIC_KEY, ROUNDS, TIMED } from './messages.js';

const HOST_SLOT_BYTES = 32;
const here = fileURLToPath(new URL('.', import.meta.url));
const OPTIONS = [
  { curve: 'a', what: '(a) noble preloaded', manifest: 'manifest-a.json' },
  { curve: 'b', what: '(b) noble at run time (the firmware until 2026-12-03)', manifest: 'manifest.json' },
  { curve: 'c', what: '(c) SDK native EC + RFC 6979 (shipped)', manifest: 'manifest.json' },
] as const;

const sdk = findSdk();
if ('missing' in sdk) {
  console.log(`bench/xs-curves skipped: ${sdk.missing}`);
  process.exit(0);
}

/** Build this folder's app for one option, cached by a hash of its inputs (as simulator/mcsim.ts does the firmware). */
function build(s: Sdk, option: typeof OPTIONS[number]): string {
  const h = createHash('sha256');
  for (const f of readdirSync(here).sort()) {
    if (f.endsWith('.js') || f.endsWith('.json')) h.update(f).update('\0').update(readFileSync(join(here, f))).update('\0');
  }
  // (c) is the firmware's own module, with the SDK typings it is compiled against.
  for (const f of ['crypto/primitives.ts', 'types/ec.d.ts', 'types/ecp.d.ts', 'types/mont.d.ts', 'types/hmac.d.ts']) {
    h.update(f).update(readFileSync(join(repoRoot, 'firmware/platform/moddable', f)));
  }
  for (const pkg of ['@noble/curves', '@noble/hashes', 'typescript']) h.update(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json')));
  h.update(s.root).update(String(statSync(join(s.bin, 'mcconfig')).mtimeMs)).update(option.curve);
  const dir = join(tmpdir(), 'helios-xs-curves', h.digest('hex').slice(0, 24));
  const mcso = join(dir, 'bin/lin/mc/debug/xs-curves/mc.so');
  if (existsSync(mcso)) return mcso;
  const work = `${dir}.building-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  console.log(`building ${option.what}: mcconfig -d -m -t build -p lin -o ${work} ${option.manifest} curve=${option.curve}`);
  const r = spawnSync(join(s.bin, 'mcconfig'), ['-d', '-m', '-t', 'build', '-p', 'lin', '-o', work, option.manifest, `curve=${option.curve}`], {
    cwd: here, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, MODDABLE: s.root, PATH: `${s.bin}:${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` },
  });
  if (r.status !== 0 || !existsSync(join(work, 'bin/lin/mc/debug/xs-curves/mc.so'))) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`mcconfig failed for ${option.what}:\n${`${r.stdout}${r.stderr}`.split('\n').slice(-20).join('\n')}`);
  }
  renameSync(work, dir);
  return mcso;
}

interface Memory { slotBytes: number; chunkBytes: number }
interface Result {
  curve: string; failed?: string; signMs?: number; verifyMs?: number; verifies?: boolean; rejectsAltered?: boolean;
  start?: Memory; loaded?: Memory; end?: Memory; stackPeakBytes: number;
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const key = hex(KEY);
const pair = keyPairFromSecret(key);
if (Buffer.from(pair.publicKey, 'base64url').toString('hex') !== PUBLIC_KEY) throw new Error('messages.js: PUBLIC_KEY is not KEY\'s public key');
for (const [name, text] of MESSAGES as Array<[string, string]>) {
  if (!name.startsWith('rfc6979') && canonicalize(JSON.parse(text)) !== text) throw new Error(`messages.js: ${name} is not RFC 8785 text`);
}
const expected = new Map((MESSAGES as Array<[string, string]>).map(([name, text]) => [name, Buffer.from(signBytes(new TextEncoder().encode(text), key)).toString('hex')]));
for (let i = 0; i < EXTRA; i++) {
  const [k, text] = extra(i) as [string, string];
  expected.set(`extra-${i}`, Buffer.from(signBytes(new TextEncoder().encode(text), hex(k))).toString('hex'));
}

const runs: Array<{ option: typeof OPTIONS[number]; result?: Result; identical: number; differs: string[]; grownChunk: number; grownSlots: number; error?: string }> = [];
for (const option of OPTIONS) {
  let mcso: string;
  try {
    mcso = build(sdk, option);
  } catch (e) {
    // An option that does not build (e.g. xsl failing while it preloads) is a row of the table too.
    console.log(String(e));
    runs.push({ option, identical: 0, differs: [], grownChunk: 0, grownSlots: 0, error: `does not build: ${String(e).split('\n').filter((l) => /error|Error/.test(l)).slice(0, 2).join(' ') || 'see above'}` });
    continue;
  }
  const sim = startMcsim(sdk, mcso, join(tmpdir(), `helios-xs-curves-run-${option.curve}`));
  try {
    await sim.waitFor(/xs-curves done/, 120_000);
  } catch (e) {
    runs.push({ option, identical: 0, differs: [], grownChunk: 0, grownSlots: 0, error: String(e).split('\n').slice(0, 3).join(' ') });
    continue;
  } finally {
    await sim.stop();
  }
  const out = sim.output();
  const line = out.match(/^result (.*)$/m);
  const result = line ? JSON.parse(line[1]) as Result : undefined;
  let identical = 0;
  const differs: string[] = [];
  for (const m of out.matchAll(/^sig (\S+) ([0-9a-f]+)$/gm)) {
    if (expected.get(m[1]) === m[2]) identical++;
    else differs.push(m[1]);
  }
  // instruments key (mcsim): … 9 Chunk used, 10 Chunk available, 11 Slot used, 12 Slot available, 13 Stack used
  const samples = out.split('\n').filter((l) => l.startsWith('instruments: ')).map((l) => l.slice(13).split(',').map(Number));
  const max = (i: number) => Math.max(0, ...samples.map((s) => s[i]));
  runs.push({ option, result, identical, differs, grownChunk: max(10), grownSlots: max(12) });
}

const { x, y } = publicKeyCoordinates(pair.publicKey);
const priv = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y), d: toBase64url(key) }, format: 'jwk' });
const timed = Buffer.from((MESSAGES as Array<[string, string]>)[TIMED][1]);
const opensslSignMs = 1000 / rate(() => nodeSign('sha256', timed, { key: priv, dsaEncoding: 'ieee-p1363' }));

const slots = (bytes: number | undefined) => (bytes === undefined ? '—' : fmt(bytes / HOST_SLOT_BYTES));
const kib = (bytes: number | undefined) => (bytes === undefined ? '—' : fmt(bytes));
console.log(`bench/xs-curves — P-256 signing on XS in mcsim (Moddable SDK at ${sdk.root}), ${ROUNDS} signatures and verifications of a Reading body each\n`);
console.log(table(
  ['option', 'sign ms', '× OpenSSL sign', 'verify ms', 'byte-identical to protocol/', 'held by the signer: slots / chunk bytes', 'grown to: slots / chunk bytes', 'stack peak, slots', 'status'],
  runs.map(({ option, result: r, identical, differs, grownChunk, grownSlots, error }) => {
    const ok = r && !r.failed && r.verifies && r.rejectsAltered && differs.length === 0 && identical === expected.size;
    const status = error ?? (r?.failed ? `FAILED: ${r.failed}` : ok ? 'works' : `wrong: ${differs.length ? `differs on ${differs.join(', ')}` : ''}${r?.verifies === false ? ' does not verify its own signature' : ''}${r?.rejectsAltered === false ? ' accepts an altered or high-S signature, or one of another message' : ''}`);
    const after = r?.end ?? r?.loaded;
    const held = after ? `${slots(after.slotBytes - (r?.start?.slotBytes ?? 0))} / ${kib(after.chunkBytes - (r?.start?.chunkBytes ?? 0))}${r?.end ? '' : ' (loaded; failed before signing)'}` : '—';
    return [
      option.what,
      r?.signMs === undefined ? '—' : fmt(r.signMs, 1),
      r?.signMs === undefined ? '—' : `${fmt(r.signMs / opensslSignMs, 0)}×`,
      r?.verifyMs === undefined ? '—' : fmt(r.verifyMs, 1),
      `${identical} of ${expected.size}`,
      held,
      `${slots(grownSlots)} / ${kib(grownChunk)}`,
      r ? fmt(r.stackPeakBytes / HOST_SLOT_BYTES) : '—',
      status,
    ];
  }),
));
console.log(`\nOpenSSL (node:crypto) P-256 sign of the same body, this process: ${fmt(opensslSignMs, 3)} ms`);
console.log('held by the signer: live after a GC once it has signed and verified, minus live before it was loaded (main, shim, messages: ~270 slots, 1.5 KB); grown to: the most mcsim\'s samples saw XS reserve (the app starts with 1,024 slots and 16 KB of chunks and grows as needed)');
