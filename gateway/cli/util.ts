/** Shared pieces of the CLI: argument parsing, passphrases, talking to a running gateway, output. */
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatHec, formatKWh, isHeliosError } from '../../protocol/index.ts';
import { dataPaths, readRunInfo } from '../config.ts';

export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Run a command body, turning errors into a readable message and an exit code. */
export async function guard(help: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`helios: ${e.message}\n\n${help.trimEnd()}\n`);
      return 2;
    }
    if (isHeliosError(e) || e instanceof ApiError) {
      process.stderr.write(`helios: ${(e as { code: string }).code}: ${inUnits(e.message)}\n`);
      return 1;
    }
    process.stderr.write(`helios: ${(e as Error).message}\n`);
    return 1;
  }
}

/** A passphrase from an environment variable, or asked for on the terminal (not echoed). */
export async function passphrase(envVar: string, prompt: string, confirm = false): Promise<string> {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new UsageError(`a passphrase is needed: set ${envVar}, or run this in a terminal to be asked`);
  }
  const first = await ask(prompt);
  if (confirm) {
    const second = await ask('Repeat it: ');
    if (first !== second) throw new UsageError('the two passphrases differ');
  }
  return first;
}

function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput(s: string): void; output: NodeJS.WritableStream };
    out._writeToOutput = (s: string) => { if (s.includes(prompt)) out.output.write(prompt); };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/**
 * The ledger speaks base units (µHEC, mWh, µHEC/kWh); a person types HEC and kWh.
 * Rewrite the figures of a refusal into the units the CLI takes, exactly (integers
 * in, decimal text out, no rounding).
 */
export function inUnits(message: string): string {
  const hec = (n: string) => formatHec(Number(n)).replace(' HEC', '');
  return message
    .replace(/\b(\d+) µHEC\/kWh/g, (_, n: string) => `${hec(n)} HEC/kWh`)
    .replace(/\b(\d+) µHEC\b/g, (_, n: string) => `${hec(n)} HEC`)
    .replace(/\b(\d+) mWh\b/g, (_, n: string) => formatKWh(Number(n)));
}

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

/** Where the gateway for this data directory listens: --gateway URL, or run/gateway.json. */
export function gatewayUrl(dataDir: string, explicit?: string): string {
  if (explicit) return explicit.replace(/\/$/, '');
  const p = dataPaths(dataDir);
  const run = readRunInfo(p);
  if (!run) throw new UsageError(`no running gateway found for ${p.dir} (no run/gateway.json). Start one with "helios gateway --data ${p.dir}", or pass --gateway URL`);
  return run.http;
}

export async function api<T>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError('E_UNREACHABLE', `cannot reach the gateway at ${base} (${(e as Error).cause ?? (e as Error).message}); is "helios gateway" running?`, 0);
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(data?.code ?? 'E_HTTP', data?.message ?? `HTTP ${res.status}`, res.status);
  return data as T;
}

/** A progress bar on stderr when it is a terminal; otherwise a line every 10 %. */
export function progress(label: string, total: number) {
  const tty = Boolean(process.stderr.isTTY);
  const started = Date.now();
  let lastPct = -1;
  let lastDraw = 0;
  return {
    update(done: number, extra = '') {
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      const now = Date.now();
      if (tty) {
        if (now - lastDraw < 80 && done < total) return;
        lastDraw = now;
        const width = 30;
        const filled = total > 0 ? Math.round((done / total) * width) : width;
        const secs = (now - started) / 1000;
        const eta = done > 0 && done < total ? ` ETA ${Math.ceil((secs / done) * (total - done))}s` : '';
        process.stderr.write(`\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}${extra ? ' ' + extra : ''}${eta}   `);
      } else if (pct >= lastPct + 10 || done === total) {
        lastPct = pct - (pct % 10);
        process.stderr.write(`${label}: ${pct}% (${done}/${total})${extra ? ' ' + extra : ''}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const w = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (/^-?[\d,.]+( \w+)?$/.test(c) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(headers), w.map((x) => '─'.repeat(x)).join('  '), ...cells.map(line)].join('\n');
}
