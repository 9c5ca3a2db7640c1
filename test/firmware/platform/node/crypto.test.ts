/**
 * Virtual meters may sign and verify on OpenSSL. Whatever they use must give the
 * same verdicts as the JavaScript the device runs: low-S only, 64 bytes, the right
 * key, the exact message.
 */
import test from 'ava';
import fc from 'fast-check';
import { fromHex, generateKeyPair, normalizeLowS, signBytes, toHex, utf8Encode, verifyBytes } from '../../../../protocol/index.ts';
import { opensslSigner, opensslVerifier } from '../../../../firmware/platform/node/signer.ts';
import { testEntropy } from '../../../helpers/grid.ts';

const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const highS = (sig: Uint8Array) => {
  const s = N - BigInt('0x' + toHex(sig.subarray(32)));
  const out = sig.slice();
  out.set(fromHex(s.toString(16).padStart(64, '0')), 32);
  return out;
};

test('the OpenSSL verifier gives the JavaScript verifier\'s verdict on good, high-S, altered, foreign and malformed signatures', (t) => {
  const a = generateKeyPair(testEntropy(41));
  const b = generateKeyPair(testEntropy(42));
  const sslSign = opensslSigner(a);
  let checked = 0;
  fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.boolean(), (text, viaOpenssl) => {
    const msg = utf8Encode(text);
    const sig = viaOpenssl ? sslSign(msg) : signBytes(msg, a.secretKey);
    const cases: Array<[Uint8Array, Uint8Array, string]> = [
      [sig, msg, a.publicKey],
      [highS(sig), msg, a.publicKey],
      [normalizeLowS(highS(sig)), msg, a.publicKey],
      [sig, utf8Encode(text + '.'), a.publicKey],
      [sig, msg, b.publicKey],
      [sig.subarray(0, 63), msg, a.publicKey],
      [new Uint8Array(64), msg, a.publicKey],
      [sig, msg, 'not-a-key'],
    ];
    for (const [s, m, k] of cases) {
      if (opensslVerifier(s, m, k) !== verifyBytes(s, m, k)) return false;
      checked++;
    }
    return verifyBytes(sig, msg, a.publicKey) && !verifyBytes(highS(sig), msg, a.publicKey);
  }), { numRuns: 60 });
  t.true(checked >= 60 * 8);
});
