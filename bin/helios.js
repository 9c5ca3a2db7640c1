#!/usr/bin/env node
// The `helios` command. TypeScript runs through tsx's loader, so a fresh clone works
// after `npm install` with no build step.
import { register } from 'tsx/esm/api';

// `helios ledger export | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// A failed command exits now: a timer or worker thread left by a half-finished start must not keep it alive.
if (code !== 0) process.exit(code);
