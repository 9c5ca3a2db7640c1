#!/usr/bin/env node
// Type-checks firmware/platform/moddable against the Moddable SDK's own declarations
// ($MODDABLE/typings and $MODDABLE/xs/includes/xs.d.ts), with the compiler options
// mcconfig uses for TypeScript modules (tools/mcmanifest.js TSConfigFile: module
// preserve, target and lib es2025) plus the manifest's "typescript" options.
//
// The only stand-in declarations are for what the SDK does not declare:
//   firmware/platform/moddable/types/mqtt.d.ts   the `mqtt` client module (the SDK types only mqtt/js)
//   firmware/platform/moddable/native/entropy.d.ts  our own native entropy function
//   firmware/platform/moddable/types/{ec,ecp,mont,hmac}.d.ts  the SDK's crypt modules the native
//     primitives use (modules/crypt/arith, modules/crypt/etc/hmac), which the SDK ships untyped
//
// Without MODDABLE it says so and skips (a workstation without the SDK); under
// CI=true a missing SDK fails, so CI never passes without having checked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const platform = join(root, 'firmware/platform/moddable');
const sdk = process.env.MODDABLE ? resolve(process.env.MODDABLE) : undefined;

if (!sdk || !existsSync(join(sdk, 'typings'))) {
  const why = sdk ? `MODDABLE=${sdk} has no typings/` : 'MODDABLE is not set';
  const msg = `typecheck-moddable: ${why}, so firmware/platform/moddable is not type-checked against the SDK. ` +
    'Set MODDABLE to a Moddable SDK 8.2 checkout (here: export MODDABLE=$PWD/../shared/moddable).';
  if (process.env.CI === 'true') {
    console.error(`${msg}\nCI=true: failing, CI must check the firmware.`);
    process.exit(1);
  }
  console.log(`${msg} Skipped.`);
  process.exit(0);
}

const typings = join(sdk, 'typings');
// The SDK's own module map (typings/tsconfig.es2024.json "paths", relative to typings/), made absolute.
const sdkPaths = JSON.parse(readFileSync(join(typings, 'tsconfig.es2024.json'), 'utf8')).compilerOptions.paths;
const paths = {};
for (const [spec, targets] of Object.entries(sdkPaths)) paths[spec] = targets.map((t) => join(typings, t));
Object.assign(paths, {
  mqtt: [join(platform, 'types/mqtt.d.ts')],
  'helios/native/entropy': [join(platform, 'native/entropy.d.ts')],
  // mcconfig maps "helios/board" per platform; check against the ESP32 board. lin/board.ts,
  // compiled too, must satisfy the same BoardFactory type.
  'helios/board': [join(platform, 'esp32/board.ts')],
  // "helios/store" likewise: esp32/store.ts here; lin/store.ts is compiled too.
  'helios/store': [join(platform, 'esp32/store.ts')],
});

const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
const tsconfig = {
  compilerOptions: {
    target: 'es2025',
    module: 'preserve',
    moduleResolution: 'bundler',
    lib: ['es2025'],
    // As manifest_base.json gives mcconfig: XS's globals (trace, ArrayBuffer.fromString, …) and the SDK's global.
    types: [join(sdk, 'xs/includes/xs'), join(typings, 'global')],
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    paths,
    ...manifest.typescript.tsconfig.compilerOptions,
  },
  include: [join(platform, '**/*.ts')],
};

const dir = join(tmpdir(), 'helios-typecheck-moddable');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'tsconfig.json');
writeFileSync(file, JSON.stringify(tsconfig, null, 2));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', file], { stdio: 'inherit' });
process.exit(r.status ?? 1);
