/**
 * The app that checks the firmware's platform modules on the real Moddable runtime
 * (test/firmware/mcsim-platform): one build, shared by mcsim-primitives.test.ts and
 * mcsim-store.test.ts, cached with the firmware's builds (simulator/mcsim.ts).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinApp } from '../../simulator/mcsim.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const platformCheckApp: LinApp = {
  manifest: join(root, 'test/firmware/mcsim-platform/manifest.json'),
  name: 'helios-platform-check',
  inputs: ['test/firmware/mcsim-platform', 'firmware/core', 'firmware/platform/moddable/crypto', 'firmware/platform/moddable/types',
    'firmware/platform/moddable/lin/store.ts', 'protocol'].map((p) => join(root, p)),
};
