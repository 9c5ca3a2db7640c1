/*
 * protocol/ on the real XS machine (mcsim), preloaded as the firmware preloads it, with
 * the firmware's native primitives (firmware/platform/moddable/crypto/primitives.ts,
 * mapped to protocol/primitives). For test/firmware/mcsim-primitives.test.ts (hashes,
 * keys, signatures) and test/firmware/mcsim-protocol.test.ts (the meter's messages and
 * topics): it reads the cases from ./vectors.json (the test writes them, and computes the
 * same cases with protocol/ on Node), runs each and prints "CASE <index> <result as
 * JSON>", then "CASES done".
 *
 * A case is { fn, args }: args are hex strings (bytes) or { text } (a string). A result
 * is hex for bytes, a boolean, null for undefined, the decoded value, or { error } with
 * the HeliosError code (and its message, for the protocol's checks), or "throws" for any
 * other exception.
 */
import { File } from "file";
import * as P from "protocol/primitives";
import * as ecdsa from "protocol/ecdsa";
import * as protocol from "protocol/index";

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const arg = (a) => (typeof a === "string" ? bytes(a) : a.text);

/** The messages a meter decodes or builds, by name (docs/protocol.md, "Meter messages"). */
const SCHEMAS = {
	Reading: protocol.ReadingBody,
	Ack: protocol.AckMessage,
	Time: protocol.TimeMessage,
	CreditToken: protocol.signed(protocol.CreditTokenBody),
	Enrolment: protocol.signed(protocol.EnrolmentBody),
	Hello: protocol.HelloBody,
	Status: protocol.StatusMessage,
	Login: protocol.LoginBody,
	Restore: protocol.RestoreMessage,
};
/** Functions whose refusals are compared with their messages too: the text a person reads. */
const WITH_MESSAGE = new Set(["decode", "parseTopic"]);

const run = {
	sha256: (m) => P.sha256(m),
	secretKeyFromSeed: (seed) => P.secretKeyFromSeed(seed),
	isSecretKey: (k) => P.isSecretKey(k),
	publicKeyOf: (k) => P.publicKeyOf(k),
	compressPoint: (q) => P.compressPoint(q),
	uncompressPoint: (q) => P.uncompressPoint(q),
	sign: (m, k) => P.sign(m, k),
	verify: (sig, m, q) => P.verify(sig, m, q),
	// protocol/ecdsa.ts on top of them, as the firmware runs it
	keyPairFromSecret: (k) => { const kp = ecdsa.keyPairFromSecret(k); return { publicKey: kp.publicKey, keyId: kp.keyId }; },
	generateKeyPair: (seed) => { const kp = ecdsa.generateKeyPair(() => seed); return { secretKey: hex(kp.secretKey), publicKey: kp.publicKey }; },
	decodePublicKey: (s) => ecdsa.decodePublicKey(s),
	keyIdOf: (s) => ecdsa.keyIdOf(s),
	signBytes: (m, k) => ecdsa.signBytes(m, k),
	verifyBytes: (sig, m, s) => ecdsa.verifyBytes(sig, m, s),
	// the meter's messages and topics
	decode: (schema, text) => protocol.decode(text, SCHEMAS[schema], protocol.MAX_METER_MESSAGE_BYTES),
	parseTopic: (topic) => protocol.parseTopic(topic),
};

function result(value) {
	if (value instanceof Uint8Array) return hex(value);
	if (value === undefined) return null;
	return value;
}

try {
	const f = new File("vectors.json");
	const cases = JSON.parse(f.read(String));
	f.close();
	cases.forEach((c, i) => {
		let out;
		try {
			out = result(run[c.fn](...c.args.map(arg)));
		} catch (e) {
			out = e?.code ? (WITH_MESSAGE.has(c.fn) ? { error: e.code, message: e.message } : { error: e.code }) : "throws";
		}
		trace(`CASE ${i} ${JSON.stringify(out)}\n`);
	});
	trace("CASES done\n");
} catch (e) {
	trace(`CASES error ${e}\n`);
}
