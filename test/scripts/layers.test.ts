/**
 * Each layer imports only downward (README "How it fits together"): protocol/ is
 * at the bottom and runs on XS too, shared/ is Node-only code under the programs, the
 * firmware never imports the gateway, the simulator or the flows. Every static and
 * dynamic import in the source trees is read and resolved to the folder it lands in.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) return name === 'node_modules' ? [] : sources(rel);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

const IMPORT = /(?:^|[\s;}])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The repository folders (first path segment, or firmware/<part>) a file imports from. */
function importsOf(file: string): string[] {
  const code = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    out.push(relative(root, resolve(dirname(join(root, file)), spec)));
  }
  return out;
}

const rules: Array<{ layer: string; may: string[] }> = [
  { layer: 'protocol', may: ['protocol'] },
  { layer: 'shared', may: ['shared', 'protocol'] },
  { layer: 'firmware/core', may: ['firmware/core', 'protocol'] },
  { layer: 'firmware/platform/moddable', may: ['firmware/platform/moddable', 'firmware/core', 'protocol'] },
  { layer: 'firmware/platform/node', may: ['firmware/platform/node', 'firmware/core', 'protocol', 'shared'] },
];

for (const { layer, may } of rules) {
  test(`${layer}/ imports only from ${may.join(', ')}`, (t) => {
    const files = sources(layer);
    t.true(files.length > 0);
    const wrong = files.flatMap((f) => importsOf(f)
      .filter((target) => !may.some((m) => target === m || target.startsWith(m + '/')))
      .map((target) => `${f} imports ${target}`));
    t.deepEqual(wrong, []);
  });
}
