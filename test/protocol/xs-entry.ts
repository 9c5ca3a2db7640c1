/** Bundled and run inside XS by protocol.test.ts: reports the vectors and what engine ran them. */
import { computeVectors } from './vectors.ts';
import { fromBase64url, utf8Encode, verifyBytes, generateKeyPair, signBytes, toBase64url } from '../../protocol/index.ts';
import { testEntropy } from './vectors.ts';

const g = globalThis as unknown as Record<string, unknown>;
report({
  engine: {
    hasPrint: typeof g.print === 'function',
    hasProcess: typeof g.process !== 'undefined',
    hasBuffer: typeof g.Buffer !== 'undefined',
  },
});
report(computeVectors());

// Signatures made by node:crypto, handed in as input: protocol code must accept them.
const input = xsInput as { publicKey: string; items: Array<{ msg: string; sig: string }> };
report(input.items.map((x) => verifyBytes(fromBase64url(x.sig), utf8Encode(x.msg), input.publicKey)));

// Signatures made here, in XS, for node:crypto to check.
const key = generateKeyPair(testEntropy(2026));
const messages = ['meter reading 1', 'credit token', '{"a":1}', '\u00e9\u20ac\ud83d\ude00'];
report({
  publicKey: key.publicKey,
  items: messages.map((m) => ({ msg: m, sig: toBase64url(signBytes(utf8Encode(m), key.secretKey)) })),
});
