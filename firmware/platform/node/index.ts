/** @module firmware/platform/node — the meter core on Node: what the simulator and tests run. */
export * from './meter.ts';
export * from './mqtt.ts';
export * from './storage.ts';
export * from './energy.ts';
export * from './relay.ts';
export * from './signer.ts';
export * from './packetTransport.ts';
export * from './faultyStore.ts';
