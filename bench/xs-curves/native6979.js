/*
 * Option (c): ECDSA P-256 with the SDK's native EC arithmetic (modules/crypt/arith:
 * ec.c, mont.c, modular.c) and an RFC 6979 nonce (section 3.2) from the SDK's
 * HMAC-SHA256 (crypt Digest): sign gives low-S 64-byte r‖s, the bytes protocol/ecdsa.ts
 * signBytes gives; verify has verifyBytes' strict rules (64 bytes, 0 < r < n,
 * 0 < s <= n/2) and takes a 33-byte compressed public key.
 *
 * This module is preloaded (its constants are made by xsl and live in flash), so it never
 * compares BigInts with === or !==: XS 8.2.3 says a preloaded BigInt is not === an equal
 * one made at run time (bench/xs-bigint-rom). It uses < and > only.
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

const eq = (a, b) => !(a < b) && !(a > b);

let ec, G, n, p;
function init() {
	// The native objects are made at the first call, in RAM; they are small.
	ec = new EC(A, B, P);
	G = new ECPoint(Gx, Gy);
	n = new Mont({m: N});
	p = new Mont({m: P});
}
const bytes32 = (x) => new Uint8Array(ArrayBuffer.fromBigInt(x, 32));
const int = (b) => BigInt.fromArrayBuffer(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
function hmac(key, ...parts) {
	const h = new HMAC(new Digest("SHA256"), key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength));
	for (const part of parts) h.update(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
	return new Uint8Array(h.close());
}
export function sha256(m) {
	const d = new Digest("SHA256");
	d.write(m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength));
	return new Uint8Array(d.close());
}
export function sign(message, secretKey) {
	if (!ec) init();
	const e = int(sha256(message));
	const d = int(secretKey);
	if (!(d > 0n && d < N)) throw new RangeError("not a P-256 secret key");
	const x = bytes32(d), hm = bytes32(e % N);	// int2octets(x), bits2octets(h1) (RFC 6979 2.3.3, 2.3.4)
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
			if (r > 0n) {
				let s = n.mul(n.add(e, n.mul(d, r)), n.mulinv(k));
				if (s > 0n) {
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
/** The point of a 33-byte compressed P-256 public key (SEC 1 2.3.4), or undefined. */
export function decodePoint(publicKey) {
	if (!ec) init();
	if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) return undefined;
	const x = int(publicKey.subarray(1));
	if (!(x < P)) return undefined;
	const y2 = p.add(p.mul(p.mul(x, x), x), p.add(p.mul(A, x), B)) % P;
	let y = p.exp(y2, (P + 1n) >> 1n >> 1n);	// P ≡ 3 (mod 4)
	if (!eq(p.mul(y, y), y2)) return undefined;
	if (Number(y & 1n) !== (publicKey[0] & 1)) y = P - y;
	return new ECPoint(x, y);
}
export function verify(signature, message, publicKey) {
	if (!ec) init();
	if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
	const r = int(signature.subarray(0, 32)), s = int(signature.subarray(32));
	if (!(r > 0n && r < N && s > 0n && !(s > (N >> 1n)))) return false;
	const Q = decodePoint(publicKey);
	if (!Q) return false;
	const e = int(sha256(message));
	const w = n.mulinv(s);
	// ec._mul2, not ec.mul2: the SDK's ec.js tests the point at infinity with `r.z == 0n`,
	// which the ROM/RAM bug makes always false when ec.js is preloaded; z is tested here.
	const R = ec._mul2(G, n.mul(e, w), Q, n.mul(r, w));
	return R.z > 0n && eq(R.x % N, r);
}
