// Loaded into every test worker (ava.config.js `require`). fast-check prints the seed of
// a failing property; HELIOS_FC_SEED=that-seed npx ava FILE replays it, shrinking included.
import fc from 'fast-check';

const seed = process.env.HELIOS_FC_SEED;
if (seed !== undefined) {
  if (!/^-?\d+$/.test(seed)) throw new Error(`HELIOS_FC_SEED must be the integer fast-check printed, not ${JSON.stringify(seed)}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });
}
