import { readFileSync } from 'node:fs';
import { commands } from './commands.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

export function usage(): string {
  const names = Object.keys(commands);
  const width = Math.max(8, ...names.map((n) => n.length)) + 2;
  const lines = names.map((n) => `  ${n.padEnd(width)}${commands[n].summary}`);
  return [
    `helios ${pkg.version} — ${pkg.description}`,
    '',
    'Usage: helios <command> [options]',
    '       helios <command> --help',
    '',
    'Commands:',
    ...(lines.length ? lines : ['  (none yet)']),
    '',
    'Options:',
    '  --help, -h     show this help',
    '  --version, -v  print the version',
    '',
    'Data lives in ./data unless a command is given --data DIR.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage() + '\n');
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = commands[first];
  if (!entry) {
    process.stderr.write(`helios: unknown command "${first}". Run "helios --help" for the list.\n`);
    return 2;
  }
  const mod = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(mod.help.trimEnd() + '\n');
    return 0;
  }
  return mod.run(rest);
}
