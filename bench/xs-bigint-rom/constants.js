/*
 * Preloaded (manifest "preload"): these BigInts are made by xsl at build time and
 * live in ROM (flash on a device), like @noble/curves' curve constants would.
 */
export const ONE = BigInt(1);
export const N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;
export function isOne(x) {
	return x === ONE;
}
