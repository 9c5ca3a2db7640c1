#!/usr/bin/env node
// npm run build [-- --out DIR]: the bundles that run outside this repository's tsx.
//
//   DIR/protocol.js       protocol/ as one ES2020 module: browsers (dashboards checking
//                         signatures), XS hosts and other tools import it as it is.
//   DIR/firmware-core.js  firmware/core/ with protocol/, ES2020: the meter logic for an
//                         XS host without the Moddable toolchain (the tests run it in xsnap).
//
// ES2020 because the XS in @agoric/xsnap rejects ES2022 class fields. Platform
// "neutral" with nothing external: a Node built-in anywhere in these trees fails the build.
// The Node programs (gateway, simulator, CLI) need no build: bin/helios.js runs the
// TypeScript through tsx. The device firmware is built by Moddable's mcconfig from
// manifest.json (docs/installing-a-meter.md).
import { build } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist') } } });
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

const bundles = [
  { entry: 'protocol/index.ts', file: 'protocol.js' },
  { entry: 'firmware/core/index.ts', file: 'firmware-core.js' },
];
for (const b of bundles) {
  const outfile = join(out, b.file);
  await build({
    entryPoints: [join(root, b.entry)],
    outfile,
    bundle: true,
    format: 'esm',
    target: 'es2020',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    legalComments: 'eof',
    logLevel: 'error',
  });
  console.log(`${b.entry.padEnd(24)} → ${outfile} (${(statSync(outfile).size / 1024).toFixed(1)} KiB)`);
}
