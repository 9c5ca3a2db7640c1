/*
 * bench/xs-curves: sign time and memory of the three ways to sign on XS (docs/performance.md).
 *   curve=a: @noble/curves preloaded (manifest-a.json)   curve=b: noble loaded at run time
 *   curve=c: the SDK's native EC arithmetic with an RFC 6979 nonce (native6979.js)
 */
import "shim";
import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";

const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const utf8 = (s) => new Uint8Array(ArrayBuffer.fromString(s));
// RFC 6979 A.2.5, P-256 with SHA-256: the key, and (r, s) for "sample" and "test" (s low-S normalised where needed).
const KEY = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
const VECTORS = [
	["sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"],
	["test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"],
];
const MESSAGE = utf8('{"creditMWh":316,"exportMWh":89,"fw":"helios-fw 0.1.0","grid":"bench","importMWh":1234567,"meter":"0123456789abcdef0123456789abcdef","powerW":-250,"relay":"closed","seq":1,"t":1774098000000,"type":"Reading"}');
const ROUNDS = 20;
const slots = Instrumentation.map("XS Slot Heap Used"), chunk = Instrumentation.map("XS Chunk Heap Used"), stack = Instrumentation.map("XS Stack Used");

async function signer() {
	if (config.curve === "c") return (await import("native6979")).sign;
	const { p256 } = await import("@noble/curves/nist");
	return (m, k) => p256.sign(m, k, { lowS: true });
}
async function run() {
Debug.gc();
const before = { slots: Instrumentation.get(slots), chunk: Instrumentation.get(chunk) };
try {
	const sign = await signer();
	for (const [msg, want] of VECTORS) {
		const got = toHex(sign(utf8(msg), KEY)).toUpperCase();
		trace(`curve ${config.curve}: RFC 6979 "${msg}" ${got === want ? "matches" : "DIFFERS: " + got}\n`);
	}
	const t0 = Date.now();
	for (let i = 0; i < ROUNDS; i++) sign(MESSAGE, KEY);
	const ms = (Date.now() - t0) / ROUNDS;
	Debug.gc();
	const after = { slots: Instrumentation.get(slots), chunk: Instrumentation.get(chunk) };
	trace(`curve ${config.curve}: sign ${ms.toFixed(1)} ms; after gc: slots ${after.slots} bytes (+${after.slots - before.slots} since start), chunk ${after.chunk} bytes (+${after.chunk - before.chunk}); stack peak ${Instrumentation.get(stack)} bytes\n`);
} catch (e) {
	trace(`curve ${config.curve}: FAILED ${e}\n`);
}
trace("xs-curves done\n");
}
run().catch((e) => trace(`curve ${config.curve}: FAILED ${e}\n`));
