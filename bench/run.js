#!/usr/bin/env node
// npm run bench [-- NAME ...]: runs bench/NAME.ts for each name (all of them by default), one after another.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
// Benchmarks kept in a folder of their own, with the app they build: name → script.
const inFolders = { 'xs-curves': 'xs-curves/run.ts' };
const all = [...readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('-xs.ts')).map((f) => f.slice(0, -3)), ...Object.keys(inFolders)].sort();
const args = process.argv.slice(2);
// Names first, then flags for the benchmarks: npm run bench -- ingest --meters 10000
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
const chosen = names.length ? names : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`no benchmark "${name}"; there are: ${all.join(', ')}`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of chosen) {
  const r = spawnSync(process.execPath, ['--import=tsx', `${dir}${inFolders[name] ?? `${name}.ts`}`, ...flags], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
  console.log('');
}
process.exit(failed ? 1 : 0);
