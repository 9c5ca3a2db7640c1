/** Reference figures measured in the same run as a benchmark, so ratios mean something on any machine. */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface OpensslEcdsa {
  signPerSec: number;
  verifyPerSec: number;
  processes: number;
}

/** OpenSSL's own P-256 sign/verify rate (`openssl speed ecdsap256`), on `processes` cores. */
export function opensslP256(seconds = 3, processes = 1): OpensslEcdsa {
  const args = ['speed', '-mr', '-elapsed', '-seconds', String(seconds)];
  if (processes > 1) args.push('-multi', String(processes));
  args.push('ecdsap256');
  const out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // "+F4:<n>:256:<sign/s>:<verify/s>" — with -multi, the summed rate of all processes.
  const m = /\+F4:\d+:256:([\d.]+):([\d.]+)/.exec(out);
  if (!m) throw new Error(`could not read openssl speed output:\n${out}`);
  return { signPerSec: Number(m[1]), verifyPerSec: Number(m[2]), processes };
}

export function coreCount(): number {
  return cpus().length;
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns operations per second. */
export function rate(fn: () => void, ms = 2000, batch = 50): number {
  for (let i = 0; i < batch; i++) fn(); // warm up
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n / elapsed) * 1000;
}

export function fmt(n: number, digits = 0): string {
  const fixed = n.toFixed(digits);
  const [whole, frac] = fixed.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

/** Print a markdown table (what docs/performance.md records). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const w = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  return [line(headers), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

/**
 * `promise`, or a rejection naming `what` after `ms`; the timer is cleared either way,
 * so a finished benchmark exits at once instead of waiting out its deadline.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what()}`)), ms); });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
