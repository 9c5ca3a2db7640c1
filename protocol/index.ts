/**
 * @module protocol — what firmware, gateway, simulator and flows share. Runs
 * unchanged on XS (Moddable, ESP32) and Node: no Node built-ins, no Buffer, no
 * process. See docs/protocol.md for the contract these functions implement.
 */
export * from './errors.ts';
export * from './bytes.ts';
export * from './json.ts';
export * from './hash.ts';
export * from './ecdsa.ts';
export * from './merkle.ts';
export * from './clock.ts';
export * from './units.ts';
export * from './schema.ts';
export * from './patterns.ts';
export * from './topics.ts';
export * from './messages/index.ts';
export * from './httpAuth.ts';
