/*
 * bench/xs-curves: sign and verify time and memory of the three ways to sign on XS
 * (docs/performance.md, "Firmware on XS"). One option per build (mc/config "curve"):
 *   a: @noble/curves preloaded (manifest-a.json)   b: noble loaded at run time, as the firmware does
 *   c: the SDK's native EC arithmetic with an RFC 6979 nonce: the firmware's own module (firmware/platform/moddable/crypto/primitives.ts)
 * Prints one "sig NAME HEX" line per message (run.ts checks them against protocol/) and
 * "result {json}" with the timings and memory; then waits for one more mcsim sample.
 */
import "shim";
import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import { KEY, PUBLIC_KEY, MESSAGES, TIMED, ROUNDS, EXTRA, extra } from "messages";

const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const utf8 = (s) => new Uint8Array(ArrayBuffer.fromString(s));
const SLOTS = Instrumentation.map("XS Slot Heap Used"), CHUNKS = Instrumentation.map("XS Chunk Heap Used"), STACK = Instrumentation.map("XS Stack Used");
const memory = () => {
	Debug.gc();
	return { slotBytes: Instrumentation.get(SLOTS), chunkBytes: Instrumentation.get(CHUNKS) };
};

async function load() {
	if (config.curve === "c") return await import("native");
	const noble = await import("noble4");
	if (config.curve === "a") return noble.withHash((await import("sha256sdk")).sha256);
	return noble;
}

async function run(result) {
	result.start = memory();
	const { sign, verify } = await load();
	result.loaded = memory();
	const key = hex(KEY), pub = hex(PUBLIC_KEY);
	for (const [name, text] of MESSAGES) trace(`sig ${name} ${toHex(sign(utf8(text), key))}\n`);
	for (let i = 0; i < EXTRA; i++) {
		const [k, text] = extra(i);
		trace(`sig extra-${i} ${toHex(sign(utf8(text), hex(k)))}\n`);
	}
	const message = utf8(MESSAGES[TIMED][1]);
	let t0 = Date.now();
	let sig;
	for (let i = 0; i < ROUNDS; i++) sig = sign(message, key);
	result.signMs = (Date.now() - t0) / ROUNDS;
	t0 = Date.now();
	let ok = true;
	for (let i = 0; i < ROUNDS; i++) ok = verify(sig, message, pub) && ok;
	result.verifyMs = (Date.now() - t0) / ROUNDS;
	result.verifies = ok;
	const bad = sig.slice();
	bad[10] ^= 1;
	// Refused too: the same signature in its high-S form (protocol/ verifyBytes is strict).
	const N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;
	const highS = sig.slice();
	highS.set(new Uint8Array(ArrayBuffer.fromBigInt(N - BigInt.fromArrayBuffer(sig.slice(32).buffer), 32)), 32);
	result.rejectsAltered = !verify(bad, message, pub) && !verify(highS, message, pub) && !verify(sig, utf8(MESSAGES[0][1]), pub);
	result.end = memory();
}
const result = { curve: config.curve, rounds: ROUNDS };
run(result).catch((e) => { result.failed = String(e); })
	.then(() => {
		result.stackPeakBytes = Instrumentation.get(STACK);
		trace(`result ${JSON.stringify(result)}\n`);
		// One more of mcsim's 1-second samples, then the runner stops mcsim.
		Timer.set(() => trace("xs-curves done\n"), 1500);
	});
