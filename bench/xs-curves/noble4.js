/*
 * Options (a) and (b): @noble/curves as the firmware uses it (protocol/ecdsa.ts,
 * firmware/platform/moddable/curve.ts): a 4-bit base-point window built when the module
 * runs — by xsl at build time when it is preloaded (a), at run time when not (b).
 */
import "shim";
import { p256 } from "@noble/curves/nist";
import { ecdsa } from "@noble/curves/abstract/weierstrass";

p256.Point.BASE.precompute(4, false);

export const sign = (message, secretKey) => p256.sign(message, secretKey, { lowS: true });
export const verify = (signature, message, publicKey) => p256.verify(signature, message, publicKey, { lowS: true });

/** The same signer with another SHA-256 (option a: a preloaded @noble/hashes/sha2 cannot hash, see sha256sdk.js). */
export function withHash(hash) {
	const curve = ecdsa(p256.Point, hash);
	return {
		sign: (message, secretKey) => curve.sign(message, secretKey, { lowS: true }),
		verify: (signature, message, publicKey) => curve.verify(signature, message, publicKey, { lowS: true }),
	};
}
