/**
 * The firmware preloads protocol/ and its core (manifest.json "preload"): what their
 * modules make while loading is built into flash at link time. XS 8.2.3 crashes running
 * a RegExp made that way (protocol/patterns.ts says why), so in those modules a RegExp
 * runs only as an inline literal (made when the expression runs, in RAM) or through
 * protocol/patterns.ts, which compiles a kept pattern at run time. This reads every
 * preloaded module with the TypeScript checker and lists each place that runs a RegExp
 * held in a variable, property or parameter: `.test`/`.exec` on it, or passing it to
 * `match`, `matchAll`, `replace`, `replaceAll`, `search` or `split`.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { preload: string[] };

/** The preloaded modules that are this repository's TypeScript (the native primitives under their mapped name). */
function preloadedSources(): string[] {
  return manifest.preload.flatMap((m) => {
    if (m === 'protocol/primitives') return [join(root, 'firmware/platform/moddable/crypto/primitives.ts')];
    if (m.startsWith('protocol/') || m.startsWith('firmware/')) return [join(root, `${m}.ts`)];
    return []; // the SDK's own (ec, ecp, mont, modular)
  });
}

/** Places in `files` that run a RegExp that is not an inline literal, as "file:line: code". */
function heldRegExpRuns(files: string[], allow: (file: string) => boolean = () => false): string[] {
  const program = ts.createProgram(files, { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const isHeldRegExp = (e: ts.Expression): boolean => {
    let x = e;
    while (ts.isParenthesizedExpression(x)) x = x.expression;
    if (ts.isRegularExpressionLiteral(x)) return false;
    return checker.getTypeAtLocation(x).getSymbol()?.getName() === 'RegExp';
  };
  const found: string[] = [];
  for (const file of files) {
    if (allow(file)) continue;
    const sf = program.getSourceFile(file)!;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const runsReceiver = (method === 'test' || method === 'exec') && isHeldRegExp(node.expression.expression);
        const runsArgument = ['match', 'matchAll', 'replace', 'replaceAll', 'search', 'split'].includes(method) && node.arguments.length > 0 && isHeldRegExp(node.arguments[0]);
        if (runsReceiver || runsArgument) {
          const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
          found.push(`${relative(root, file)}:${line + 1}: ${node.getText(sf).slice(0, 80)}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

test('no preloaded module runs a RegExp it keeps: each runs through protocol/patterns.ts, compiled at run time', (t) => {
  const files = preloadedSources();
  t.true(files.length > 30, `${files.length} preloaded modules`);
  t.deepEqual(heldRegExpRuns(files, (f) => f.endsWith('protocol/patterns.ts')), []);
});

test('the check finds a kept RegExp run directly, and passes an inline literal', (t) => {
  const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const found = heldRegExpRuns([join(dir, 'kept-regexps.ts')]);
  t.deepEqual(found.map((f) => f.replace(/^.*kept-regexps\.ts:/, '')), [
    '4: ID.test(s)',
    '5: rule.pattern.exec(s)',
    "6: s.replace(ID, '')",
    '7: s.split(sep)',
  ]);
});
