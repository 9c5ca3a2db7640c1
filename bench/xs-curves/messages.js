/*
 * What bench/xs-curves signs, shared by the XS app (main.js) and its Node runner (run.ts),
 * which computes the expected signatures with protocol/ (signBytes).
 * KEY is the private key of RFC 6979 A.2.5 (P-256); PUBLIC_KEY its compressed public key.
 * "sample" and "test" are the RFC's messages; the others are RFC 8785 bodies the firmware
 * signs (a Login token, a Hello, two Readings), as firmware/core/messages.ts builds them.
 */
export const KEY = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
export const PUBLIC_KEY = "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
export const MESSAGES = [
	["rfc6979-sample", "sample"],
	["rfc6979-test", "test"],
	["login", '{"client":"0123456789abcdef0123456789abcdef","ctr":42,"grid":"g-7f3a9c21","id":"0123456789abcdef0123456789abcdef","type":"Login"}'],
	["hello", '{"fw":"helios-fw 0.1.0","grid":"g-7f3a9c21","meter":"0123456789abcdef0123456789abcdef","publicKey":"A2D-1LolWp0xyWHrdMY1bWjASbiSO2H6bOZpYi5g8p-2","type":"Hello"}'],
	["reading-1", '{"creditMWh":316,"exportMWh":89,"fw":"helios-fw 0.1.0","grid":"g-7f3a9c21","importMWh":1234567,"meter":"0123456789abcdef0123456789abcdef","powerW":-250,"relay":"closed","seq":1,"t":1774098000000,"type":"Reading"}'],
	["reading-60", '{"creditMWh":0,"exportMWh":0,"fw":"helios-fw 0.1.0","grid":"g-7f3a9c21","importMWh":1242890,"meter":"0123456789abcdef0123456789abcdef","powerW":500,"relay":"open","seq":60,"t":1774101540000,"type":"Reading"}'],
];
/** The message signed and verified ROUNDS times for the timings: a Reading, what a meter signs most. */
export const TIMED = 4;
export const ROUNDS = 50;
/** EXTRA more (key, message) pairs from a fixed pseudo-random sequence: other keys, other lengths. */
export const EXTRA = 24;
export function extra(i) {
	let x = (i + 1) * 2654435761 >>> 0;
	const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
	const key = Array.from({ length: 32 }, () => next().toString(16).padStart(2, "0")).join("");
	const text = `{"i":${i},"pad":"${"x".repeat(next() % 200)}","type":"Reading"}`;
	return [key, text];
}
