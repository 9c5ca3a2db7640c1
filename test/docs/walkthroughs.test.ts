/**
 * Docs as tests: every `sh walkthrough` block of README.md and docs/*.md runs, as
 * written, in a fresh checkout-like directory against real gateways (the docs start
 * them), and prints what the `text output` block after it says — balances, relay
 * switches, listing states. A doc whose commands drift from the CLI fails here.
 * (test/helpers/walkthrough.ts has the rules of the two kinds of blocks.)
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { extractWalkthroughs, missingLine, readDoc, repoRoot, runWalkthroughs } from '../helpers/walkthrough.ts';

const docs = ['README.md', ...readdirSync(repoRoot + 'docs').filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const walked = docs.filter((d) => extractWalkthroughs(readDoc(d)).length > 0);

test('the README and the user guides have walkthroughs, each with the output it promises', (t) => {
  for (const d of ['README.md', 'docs/installing-a-meter.md', 'docs/simulator.md']) t.true(walked.includes(d), `${d} has no sh walkthrough block`);
  t.true(extractWalkthroughs(readDoc('README.md')).some((b) => /helios market direct --seller zarak@example\.org --kwh 0\.000317 --amount 3 --wallet asad\.key/.test(b.commands)), 'the paper\'s demo is a walkthrough');
  for (const d of walked) for (const b of extractWalkthroughs(readDoc(d))) t.true(b.expected.length > 0, `${d}:${b.line} says nothing about what it prints`);
});

test('the extractor and matcher follow their rules', (t) => {
  const md = ['```sh walkthrough', 'echo a', '```', '', '```text output', 'x … z', '```', '```sh', 'not run', '```', '```sh walkthrough', 'echo b', '```'].join('\n');
  const b = extractWalkthroughs(md);
  t.deepEqual(b.map((x) => [x.line, x.commands, x.expected]), [[1, 'echo a', ['x … z']], [11, 'echo b', []]]);
  t.is(missingLine('x  y   z\nq', ['x … z', 'q']), undefined);
  t.is(missingLine('q\nx y z', ['x … z', 'q']), 'q', 'in order');
  t.is(missingLine('x y zz', ['x y z']), 'x y z', 'a whole line, not a part of one');
});

// One document at a time: each starts its own gateways and meters, and the rest of the
// suite (the simulator's fault scenario above all) shares the machine's cores with them.
for (const doc of walked) {
  test.serial(`${doc}: its walkthroughs run as written and print what the text says`, async (t) => {
    t.timeout(240_000);
    const blocks = extractWalkthroughs(readDoc(doc));
    const r = await runWalkthroughs(blocks, 200_000);
    const ran = r.outputs.length;
    t.is(r.code, 0, `${doc}: the walkthrough stopped in the block at line ${blocks[Math.max(0, ran - 1)]?.line} (exit ${r.code}):\n${r.all.slice(-4000)}`);
    blocks.forEach((b, i) => {
      const miss = missingLine(r.outputs[i] ?? '', b.expected);
      t.is(miss, undefined, `${doc}:${b.line}: expected a line like\n  ${miss}\nin the output:\n${r.outputs[i] ?? '(the block did not run)'}`);
    });
  });
}
