/** Fast signing for load generation: OpenSSL through node:crypto, normalised to low-S as Helios requires. */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { canonicalize, normalizeLowS, publicKeyCoordinates, toBase64url, type KeyPair } from '../../protocol/index.ts';

export function privateKeyObject(k: KeyPair): KeyObject {
  const { x, y } = publicKeyCoordinates(k.publicKey);
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y), d: toBase64url(k.secretKey) }, format: 'jwk' });
}

/** Canonical signed envelope text of `body`. */
export function signFast(body: object, key: KeyObject): string {
  const text = canonicalize(body);
  const sig = normalizeLowS(new Uint8Array(sign('sha256', Buffer.from(text), { key, dsaEncoding: 'ieee-p1363' })));
  return `{"body":${text},"sig":"${toBase64url(sig)}"}`;
}
