/**
 * Docs as tests: the walkthroughs of README.md and docs/*.md, run as written.
 *
 * A walkthrough block is a fenced block whose info string is `sh walkthrough`; the
 * fenced block right after it, if its info string is `text output`, is what those
 * commands print. Every line of it must appear in the block's output, in that order
 * (other lines may come between); `…` stands for any text, and runs of spaces count
 * as one, so tables may be padded differently. A document's blocks run in order, in
 * one shell, in a fresh directory that looks like a checkout (the repository's files
 * linked in, no data), with `helios` on the PATH as `npm link` puts it there.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './grid.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Walkthrough {
  /** 1-based line of the block's opening fence. */
  line: number;
  commands: string;
  /** The `text output` block after it: lines to find in the output. */
  expected: string[];
}

const FENCE = /^(`{3,})\s*(.*)$/;

export function extractWalkthroughs(markdown: string): Walkthrough[] {
  const lines = markdown.split('\n');
  const blocks: Array<{ line: number; info: string; body: string; end: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith(m[1]); i++) body.push(lines[i]);
    blocks.push({ line: start + 1, info: m[2].trim(), body: body.join('\n'), end: i });
  }
  const out: Walkthrough[] = [];
  blocks.forEach((b, k) => {
    if (b.info !== 'sh walkthrough') return;
    const next = blocks[k + 1];
    const adjacent = next && lines.slice(b.end + 1, next.line - 1).every((l) => l.trim() === '');
    const expected = adjacent && next.info === 'text output' ? next.body.split('\n').filter((l) => l.trim() !== '') : [];
    out.push({ line: b.line, commands: b.body, expected });
  });
  return out;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The first expected line not found (in order) in the output, or undefined when all are there. */
export function missingLine(output: string, expected: string[]): string | undefined {
  const got = output.split('\n').map(squash);
  let at = 0;
  for (const want of expected) {
    const re = new RegExp('^' + squash(want).split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    while (at < got.length && !re.test(got[at])) at++;
    if (at === got.length) return want;
    at++;
  }
  return undefined;
}

export interface WalkthroughRun {
  dir: string;
  code: number | null;
  /** Output of each block, in order (stdout and stderr together). */
  outputs: string[];
  /** Everything the shell printed. */
  all: string;
}

/** Run a document's walkthrough blocks in order in one bash, in a fresh checkout-like directory. */
export async function runWalkthroughs(blocks: Walkthrough[], timeoutMs: number): Promise<WalkthroughRun> {
  const dir = tempDir('helios-walkthrough-');
  for (const name of readdirSync(repoRoot)) {
    if (name === '.git' || name === 'data') continue;
    symlinkSync(join(repoRoot, name), join(dir, name));
  }
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'helios'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'bin', 'helios.js')}" "$@"\n`);
  chmodSync(join(bin, 'helios'), 0o755);
  const script = [
    'exec 2>&1',
    'set -eo pipefail',
    // Whatever a walkthrough left running in the background stops with it.
    'trap \'rc=$?; for p in $(jobs -p); do kill $p 2>/dev/null || true; done; wait; exit $rc\' EXIT',
    ...blocks.flatMap((b, i) => [`echo "@@walkthrough ${i}"`, b.commands]),
    `echo "@@walkthrough ${blocks.length}"`,
  ].join('\n');
  writeFileSync(join(dir, '.walkthrough.sh'), script);
  const child = spawn('bash', ['.walkthrough.sh'], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let all = '';
  child.stdout!.on('data', (d) => (all += d));
  child.stderr!.on('data', (d) => (all += d));
  const timer = setTimeout(() => {
    all += `\n@@ timed out after ${timeoutMs} ms\n`;
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  const outputs: string[] = [];
  const parts = all.split(/^@@walkthrough (\d+)\n/m);
  for (let k = 1; k < parts.length; k += 2) outputs[Number(parts[k])] = parts[k + 1] ?? '';
  return { dir, code, outputs: outputs.slice(0, blocks.length), all };
}

export function readDoc(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}
