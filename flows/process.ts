/**
 * Node-RED as a supervised child: `node node_modules/node-red/red.js --settings
 * flows/settings.cjs` (red.js itself, so a signal reaches Node-RED and not a
 * wrapper that would leave it orphaned), with the credentials file copied from its
 * template into the user directory at every start. Restarted after a crash (at
 * most 5 times a minute); stop() sends SIGTERM and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const settingsFile = join(here, 'settings.cjs');
export const redJs = createRequire(import.meta.url).resolve('node-red/red.js');

/** What flows/settings.cjs reads, from what the caller knows about the grid. */
export interface FlowsGrid {
  grid: string;
  mqttUrl: string;
  apiUrl: string;
  operatorSecret: string;
  marketPeriodMs: number;
  /** Node-RED's user directory (outside git). */
  userDir: string;
  port: number;
  host?: string;
  editor?: boolean;
  readOnly?: boolean;
  logLevel?: string;
  /** Another flow file (tests of the check). */
  flowFile?: string;
}

export function makeFlowsEnv(g: FlowsGrid): Record<string, string> {
  return {
    HELIOS_GRID: g.grid,
    HELIOS_MQTT_URL: g.mqttUrl,
    HELIOS_API_URL: g.apiUrl,
    HELIOS_OPERATOR_SECRET: g.operatorSecret,
    HELIOS_MARKET_PERIOD_MS: String(g.marketPeriodMs),
    HELIOS_FLOWS_USER_DIR: g.userDir,
    HELIOS_FLOWS_PORT: String(g.port),
    HELIOS_FLOWS_HOST: g.host ?? '127.0.0.1',
    ...(g.editor ? { HELIOS_FLOWS_EDITOR: '1' } : {}),
    ...(g.readOnly ? { HELIOS_FLOWS_READONLY: '1' } : {}),
    ...(g.logLevel ? { HELIOS_FLOWS_LOG_LEVEL: g.logLevel } : {}),
    ...(g.flowFile ? { HELIOS_FLOWS_FILE: g.flowFile } : {}),
  };
}

export interface FlowsProcessOptions {
  env: Record<string, string>;
  /** Called with each line Node-RED prints. */
  onLine?: (line: string) => void;
  /** Restart after an unexpected exit (default true). */
  supervise?: boolean;
}

export class FlowsProcess {
  child?: ChildProcess;
  /** The dashboard's base URL once started. */
  url = '';
  private output = '';
  private stopping = false;
  private restartsAt: number[] = [];
  /** Set when Node-RED died and was not restarted. */
  died: string | undefined;

  constructor(private readonly o: FlowsProcessOptions) {}

  get log(): string {
    return this.output;
  }

  /** Start and wait for "Started flows"; rejects if Node-RED exits first or takes over 60 s. */
  async start(): Promise<void> {
    const env = this.o.env;
    mkdirSync(env.HELIOS_FLOWS_USER_DIR, { recursive: true });
    copyFileSync(join(here, 'helios_cred.template.json'), join(env.HELIOS_FLOWS_USER_DIR, 'helios_cred.json'));
    // Node-RED reads the user directory's package.json (installed palette modules): none here.
    const pkg = join(env.HELIOS_FLOWS_USER_DIR, 'package.json');
    if (!existsSync(pkg)) writeFileSync(pkg, JSON.stringify({ name: 'helios-flows-user-dir', private: true, description: 'Node-RED user directory of the Helios flows (made by helios flows; not in git)' }, null, 2) + '\n');
    const child = spawn(process.execPath, [redJs, '--settings', settingsFile], {
      env: { ...process.env, ...env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buf = '';
    const onData = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-50_000);
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.o.onLine?.(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED did not start its flows within 60 s:\n${this.output}`)), 60_000);
      const check = () => {
        if (this.output.includes('Started flows')) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Node-RED exited (${signal ?? `code ${code}`}) before starting its flows:\n${this.output}`));
      });
    });
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    await started;
    this.url = `http://${env.HELIOS_FLOWS_HOST.includes(':') ? `[${env.HELIOS_FLOWS_HOST}]` : env.HELIOS_FLOWS_HOST}:${env.HELIOS_FLOWS_PORT}`;
  }

  private exited(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.stopping || child !== this.child || this.o.supervise === false) return;
    // Ctrl-C in a terminal reaches Node-RED too (same process group): an exit it was asked for is not a crash.
    if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return;
    const now = Date.now();
    this.restartsAt = this.restartsAt.filter((t) => now - t < 60_000);
    if (this.restartsAt.length >= 5) {
      this.died = `Node-RED exited (${signal ?? `code ${code}`}) 5 times within a minute; not restarting`;
      return;
    }
    this.restartsAt.push(now);
    this.o.onLine?.(`[helios] Node-RED exited (${signal ?? `code ${code}`}); restarting`);
    setTimeout(() => { if (!this.stopping) this.start().catch((e: Error) => { this.died = e.message; }); }, 1000);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
