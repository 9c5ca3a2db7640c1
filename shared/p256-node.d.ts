import type { KeyObject } from 'node:crypto';
export function keyObject(publicKey: string): KeyObject;
export function verifyP256(publicKey: string, message: Uint8Array, sig: Uint8Array): boolean;
