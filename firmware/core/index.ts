/**
 * @module firmware/core — the meter's logic, the same on an ESP32 (Moddable XS)
 * and on Node (the simulator). Imports only protocol/ and its own interfaces.
 */
export * from './platform.ts';
export * from './errors.ts';
export * from './config.ts';
export * from './storage.ts';
export * from './registers.ts';
export * from './clock.ts';
export * from './backoff.ts';
export * from './outbox.ts';
export * from './outboxStore.ts';
export * from './s0.ts';
export * from './energy-ic.ts';
export * from './wallet.ts';
export * from './identity.ts';
export * from './messages.ts';
export * from './session.ts';
export * from './meter.ts';
