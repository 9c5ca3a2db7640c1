/*
 * XS has no global TextEncoder, and @noble/curves/nist encodes strings with one while
 * its module loads (the P-256 FROST suite's context strings). The SDK's text/encoder
 * is a native class that xsl cannot run while preloading (option a), so this is a
 * pure-JavaScript UTF-8 encoder, used by every option alike.
 */
class TextEncoder {
	get encoding() { return "utf-8"; }
	encode(s = "") {
		s = String(s);
		const out = [];
		for (let i = 0; i < s.length; i++) {
			let c = s.codePointAt(i);
			if (c > 0xFFFF) i++;
			else if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;	// a lone surrogate
			if (c < 0x80) out.push(c);
			else if (c < 0x800) out.push(0xC0 | (c >> 6), 0x80 | (c & 63));
			else if (c < 0x10000) out.push(0xE0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
			else out.push(0xF0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
		}
		return Uint8Array.from(out);
	}
}
if (globalThis.TextEncoder === undefined) globalThis.TextEncoder = TextEncoder;
