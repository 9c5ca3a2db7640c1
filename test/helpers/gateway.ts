/** Real gateways for tests: a data directory made by initGrid, and the gateway in-process or as a child `helios gateway`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Genesis, KeyPair, SignedTx } from '../../protocol/index.ts';
import { initGrid } from '../../gateway/init.ts';
import { signTx, type TxFields } from '../../gateway/ledger/sign.ts';
import { makeGrid, tempDir, testEntropy, type Household } from './grid.ts';

export const heliosBin = fileURLToPath(new URL('../../bin/helios.js', import.meta.url));

export interface GridDir {
  dir: string;
  genesis: Genesis;
  households: Household[];
  operatorSecret: string;
  authority: KeyPair;
  /** Sign a household's next transaction. */
  tx(h: Household, fields: TxFields, t?: number): SignedTx;
}

export function newGridDir(opts: { blockPeriodMs?: number; marketPeriodMs?: number; clearing?: Genesis['clearing']; priceCapMicroHecPerKWh?: number; households?: NonNullable<Parameters<typeof makeGrid>[0]>['households']; seed?: number; t?: number; utility?: Genesis['utility'] } = {}): GridDir {
  const g = makeGrid({ households: opts.households, seed: opts.seed });
  const dir = tempDir('helios-grid-');
  const r = initGrid({
    dataDir: dir,
    grid: 'test-grid',
    name: 'Test grid',
    blockPeriodMs: opts.blockPeriodMs ?? 200,
    marketPeriodMs: opts.marketPeriodMs ?? 3_600_000,
    clearing: opts.clearing ?? 'pay-as-clear',
    priceCapMicroHecPerKWh: opts.priceCapMicroHecPerKWh ?? 100_000_000_000,
    storage: { capacityMWh: 100_000_000, buyPriceMicroHecPerKWh: 80_000, sellPriceMicroHecPerKWh: 250_000 },
    authorityName: 'gateway-1',
    extraAuthorities: [],
    participants: g.genesis.participants,
    allocations: g.genesis.allocations,
    insecure: true,
    t: opts.t ?? Date.now() - 1000,
    entropy: testEntropy((opts.seed ?? 1) + 31337),
    ports: { http: 0, mqtt: 0, mqttTls: 0, mqttWs: 0 },
    ...(opts.utility ? { utility: opts.utility } : {}),
  });
  return {
    dir,
    genesis: r.genesis,
    households: g.households,
    operatorSecret: r.operatorSecret,
    authority: r.authority,
    tx: (h, fields, t = Date.now()) => {
      h.nonce += 1;
      return signTx(fields, h.key, { grid: r.genesis.grid, nonce: h.nonce, t });
    },
  };
}

export interface ChildGateway {
  child: ChildProcess;
  url: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Start `helios gateway` as a child process and wait until it serves HTTP. */
export async function startChildGateway(dir: string, extraArgs: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ChildGateway> {
  const runFile = join(dir, 'run', 'gateway.json');
  const child = spawn(process.execPath, [...nodeArgs, heliosBin, 'gateway', '--data', dir, '--http-port', '0', '--log-level', 'warn', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`helios gateway exited with ${child.exitCode}:\n${out}`);
    if (existsSync(runFile)) {
      try {
        const info = JSON.parse(readFileSync(runFile, 'utf8')) as { pid: number; http: string };
        if (info.pid === child.pid) {
          const res = await fetch(info.http + '/api/health').catch(() => undefined);
          if (res?.ok) {
            return {
              child,
              url: info.http,
              output: () => out,
              kill: async (signal = 'SIGTERM') => {
                if (child.exitCode === null && child.signalCode === null) child.kill(signal);
                await exited;
              },
            };
          }
        }
      } catch { /* not written completely yet */ }
    }
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`helios gateway did not start within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function http<T = unknown>(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
