/** Third-party clients for attack tests: curl and the sqlite3 shell, run as child processes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** curl a URL; returns the status and the body (parsed when it is JSON). */
export async function curl(url: string, args: string[] = []): Promise<{ status: number; body: unknown; text: string }> {
  const { stdout } = await run('curl', ['-s', '-g', '-w', '\n%{http_code}', ...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const i = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, i);
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: Number(stdout.slice(i + 1)), body, text };
}

/** Run SQL on a database file with the sqlite3 shell, as an attacker with the file would. */
export async function sqlite(file: string, sql: string): Promise<string> {
  const { stdout } = await run('sqlite3', ['-cmd', '.timeout 5000', file, sql]);
  return stdout;
}
