/*
 * Option (a): SHA-256 for @noble/curves from the SDK's native Digest, in noble's hash
 * shape (a function with create(), blockLen, outputLen; the instances update,
 * digestInto, _cloneInto as noble's HMAC uses them). Needed because a preloaded
 * @noble/hashes/sha2 keeps its message-schedule scratch array (SHA256_W, a module-level
 * Uint32Array) in flash, read-only, so hashing throws "read-only buffer".
 * It keeps the bytes written and hashes them at digest: messages here are short.
 */
import { Digest } from "crypt";

class SHA256 {
	constructor(parts = []) {
		this.parts = parts.slice();
		this.blockLen = 64;
		this.outputLen = 32;
	}
	update(data) {
		this.parts.push(data.slice());
		return this;
	}
	digestInto(out) {
		const d = new Digest("SHA256");
		for (const p of this.parts) d.write(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
		out.set(new Uint8Array(d.close()));
	}
	digest() {
		const out = new Uint8Array(32);
		this.digestInto(out);
		return out;
	}
	_cloneInto(to) {
		to ||= new SHA256();
		to.parts = this.parts.slice();
		return to;
	}
	clone() {
		return this._cloneInto();
	}
	destroy() {
		this.parts = [];
	}
}
export function sha256(message) {
	return new SHA256().update(message).digest();
}
sha256.blockLen = 64;
sha256.outputLen = 32;
sha256.create = () => new SHA256();
