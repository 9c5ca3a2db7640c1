/*
 * XS 8.2.3 (Moddable SDK 8.2.3): a BigInt made at preload (ROM) and an equal one made
 * at run time (RAM) are not === although Object.is says they are the same value.
 * Build and run: see README.md beside this file.
 */
import { ONE, N, isOne } from "constants";

const one = BigInt("1");
const n = BigInt("0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
const results = [
	["ROM 1n === RAM 1n", ONE === one, true],
	["Object.is(ROM 1n, RAM 1n)", Object.is(ONE, one), true],
	["ROM 1n == RAM 1n", ONE == one, true],
	["ROM 1n < RAM 2n", ONE < one + one, true],
	["ROM n === RAM n", N === n, true],
	["isOne(RAM 1n), a preloaded function comparing with ===", isOne(one), true],
	["RAM 1n === RAM 1n", one === BigInt(1), true],
];
for (const [what, got, expected] of results)
	trace(`${got === expected ? "ok  " : "BUG "} ${what}: ${got}\n`);
trace("xs-bigint-rom done\n");
