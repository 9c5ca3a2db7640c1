/**
 * `npm run build` makes the ES2020 bundles other programs load: protocol/ (for
 * browsers and XS hosts) and the firmware core. They must need nothing from Node,
 * and the protocol bundle must give the same bytes and verdicts as the sources.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as source from '../../protocol/index.ts';
import { tempDir } from '../helpers/grid.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm run build writes ES2020 bundles of protocol/ and firmware/core/ that import nothing', async (t) => {
  const out = tempDir('helios-build-');
  const log = execFileSync(process.execPath, [join(root, 'scripts/build.js'), '--out', out], { encoding: 'utf8' });
  t.regex(log, /protocol\.js/);
  t.regex(log, /firmware-core\.js/);
  for (const file of ['protocol.js', 'firmware-core.js']) {
    const code = readFileSync(join(out, file), 'utf8');
    t.notRegex(code, /^\s*import\s/m, `${file} is self-contained`);
    t.notRegex(code, /require\(|from ["']node:/, `${file} needs no Node`);
    t.notRegex(code, /^\s+#\w+[;=]/m, `${file} has no ES2022 private fields`);
  }

  type Protocol = typeof source;
  const bundled = (await import(pathToFileURL(join(out, 'protocol.js')).href)) as Protocol;
  const body = { type: 'Reading', grid: 'g', meter: 'm1', seq: 7, t: 1_780_000_000_000, importMWh: 1234, exportMWh: 0, powerW: 19, relay: 'closed', creditMWh: 0, fw: 'build-test' };
  t.is(bundled.canonicalize(body), source.canonicalize(body));
  t.is(bundled.sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');

  const key = source.generateKeyPair((n) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255));
  const signed = bundled.signBody(body, key.secretKey);
  t.deepEqual(signed, source.signBody(body, key.secretKey), 'RFC 6979: the same signature from the bundle and the sources');
  t.true(source.verifyBody(signed, key.publicKey));
  const { x, y } = source.publicKeyCoordinates(key.publicKey);
  const jwk = { kty: 'EC', crv: 'P-256', x: source.toBase64url(x), y: source.toBase64url(y) };
  const sig = Buffer.from(signed.sig, 'base64url');
  t.true(verify('sha256', Buffer.from(source.canonicalize(body)), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, sig), 'node:crypto verifies the bundle\'s signature');
  t.false(bundled.verifyBody({ ...signed, body: { ...body, importMWh: 1235 } }, key.publicKey), 'an edited body does not verify');
});
