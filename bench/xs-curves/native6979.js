/*
 * Option (c): ECDSA P-256 sign with the SDK's native EC arithmetic (modules/crypt/arith:
 * ec.c, mont.c) and an RFC 6979 nonce (section 3.2) from the SDK's HMAC-SHA256 (crypt
 * Digest), low-S, 64-byte r‖s — the bytes protocol/ecdsa.ts signBytes gives.
 */
import EC from "ec";
import ECPoint from "ecp";
import Mont from "mont";
import HMAC from "hmac";
import { Digest } from "crypt";

const P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFFn;
const A = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFCn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;
const Gx = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const Gy = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

let ec, G, n;
function init() {
	// Made at run time, not at preload: the ROM/RAM BigInt bug (bench/xs-bigint-rom).
	ec = new EC(A, B, P);
	G = new ECPoint(Gx, Gy);
	n = new Mont({m: N});
}
const bytes32 = (x) => new Uint8Array(ArrayBuffer.fromBigInt(x, 32));
const int = (b) => BigInt.fromArrayBuffer(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
function hmac(key, ...parts) {
	const h = new HMAC(new Digest("SHA256"), key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength));
	for (const p of parts) h.update(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
	return new Uint8Array(h.close());
}
export function sha256(m) {
	const d = new Digest("SHA256");
	d.write(m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength));
	return new Uint8Array(d.close());
}
export function sign(message, secretKey) {
	if (!ec) init();
	const h1 = sha256(message);
	const d = int(secretKey);
	let e = int(h1);
	const hm = bytes32(e % N);		// bits2octets (RFC 6979 2.3.4)
	const x = bytes32(d);
	// RFC 6979 3.2 b–h
	let V = new Uint8Array(32).fill(1), K = new Uint8Array(32);
	K = hmac(K, V, Uint8Array.of(0), x, hm);
	V = hmac(K, V);
	K = hmac(K, V, Uint8Array.of(1), x, hm);
	V = hmac(K, V);
	for (;;) {
		V = hmac(K, V);
		const k = int(V);
		if (k > 0n && k < N) {
			const r = ec.mul(G, k).X % N;
			if (r !== 0n) {
				let s = n.mul(n.add(e, n.mul(d, r)), n.mulinv(k));
				if (s !== 0n) {
					if (s > (N >> 1n)) s = N - s;
					const out = new Uint8Array(64);
					out.set(bytes32(r), 0);
					out.set(bytes32(s), 32);
					return out;
				}
			}
		}
		K = hmac(K, V, Uint8Array.of(0));
		V = hmac(K, V);
	}
}
