import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../firmware/core/', import.meta.url));
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

test('firmware/core imports only protocol/ and itself, and takes time and randomness only from its platform', (t) => {
  const files = readdirSync(root).filter((f) => f.endsWith('.ts'));
  t.true(files.length >= 10);
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8');
    for (const m of src.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      t.true(spec.startsWith('./') || spec === '../../protocol/index.ts', `${f} imports ${spec}`);
    }
    const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const banned of [/\bDate\.now\b/, /\bnew Date\b/, /\bMath\.random\b/, /(?<![.\w])setTimeout\(/, /(?<![.\w])setInterval\(/, /\bprocess\./, /\bBuffer\b/, /\brequire\(/, /\bconsole\./]) {
      t.notRegex(code, banned, `${f} uses ${banned.source}`);
    }
  }
});
