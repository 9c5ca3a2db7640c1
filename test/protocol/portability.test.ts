import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../protocol/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

test('protocol/ imports no Node built-in and uses no Node-only global', (t) => {
  const found = files(root);
  t.true(found.length > 5);
  for (const file of found) {
    const src = readFileSync(file, 'utf8');
    const name = relative(root, file);
    for (const m of src.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      t.false(builtins.has(spec) || spec.startsWith('node:'), `${name} imports the Node built-in ${spec}`);
      t.true(spec.startsWith('.') || spec.startsWith('@noble/'), `${name} imports ${spec}; protocol/ may import only itself and @noble`);
    }
    const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    t.notRegex(code, /\bBuffer\b/, `${name} uses Buffer`);
    t.notRegex(code, /\bprocess\./, `${name} uses process`);
    t.notRegex(code, /\brequire\(/, `${name} uses require`);
  }
});
