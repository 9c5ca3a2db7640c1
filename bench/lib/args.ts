/**
 * A benchmark's command-line flags: node's parseArgs, plus --help, and a bad flag
 * answered with the usage (exit 2) rather than a stack trace.
 */
import { parseArgs } from 'node:util';

type StringOption = { type: 'string'; default?: string; help: string };

export function benchArgs<K extends string>(name: string, about: string, options: Record<K, StringOption>): Record<K, string | undefined> {
  const usage = () => [
    `npm run bench -- ${name} [flags]`,
    '',
    about,
    '',
    ...Object.entries<StringOption>(options).map(([k, o]) => `  --${k} VALUE`.padEnd(28) + o.help + (o.default !== undefined ? ` (default ${o.default})` : '')),
    '  --help'.padEnd(28) + 'print this and exit',
  ].join('\n');
  const config = Object.fromEntries(Object.entries<StringOption>(options).map(([k, o]) => [k, { type: 'string' as const, ...(o.default !== undefined ? { default: o.default } : {}) }]));
  try {
    const { values } = parseArgs({ options: { ...config, help: { type: 'boolean' } } });
    if (values.help) {
      console.log(usage());
      process.exit(0);
    }
    return values as Record<K, string | undefined>;
  } catch (e) {
    console.error(`bench/${name}: ${(e as Error).message}\n\n${usage()}`);
    process.exit(2);
  }
}
