/**
 * Signing on OpenSSL for virtual meters: a simulator runs thousands of meters in
 * one process, and OpenSSL signs ~20× faster than the JavaScript the device runs.
 * Same key, same curve, same low-S encoding; OpenSSL's nonce is random rather than
 * RFC 6979's derived one, which verifiers cannot tell apart.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { normalizeLowS, publicKeyCoordinates, toBase64url } from '../../../protocol/index.ts';
import type { VerifyFn } from '../../../protocol/index.ts';
import type { SignerFactory } from '../../core/platform.ts';
// OpenSSL's verifier (shared with the gateway), which keeps protocol/'s strict rules (low-S first).
import { verifyP256 } from '../../../shared/p256-node.js';

export const opensslSigner: SignerFactory = ({ secretKey, publicKey }) => {
  const { x, y } = publicKeyCoordinates(publicKey);
  const key = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64url(x), y: toBase64url(y), d: toBase64url(secretKey) }, format: 'jwk' });
  return (message) => normalizeLowS(new Uint8Array(sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' })));
};

/**
 * Verifying the authority's signatures (enrolment, credit tokens) on OpenSSL: a
 * simulator's 10,000 meters each check an enrolment certificate as they start, which
 * in JavaScript is ~5 ms apiece. Same strict rules as protocol/'s verifyBytes.
 */
export const opensslVerifier: VerifyFn = (signature, message, publicKey) => verifyP256(publicKey, message, signature);
