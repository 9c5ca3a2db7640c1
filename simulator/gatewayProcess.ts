/**
 * The simulator's gateway: a grid made with `helios init` and a `helios gateway`
 * child process on fixed loopback ports (so meters find it again after a restart)
 * and on the simulation's clock (--clock-start/--clock-anchor, the same three
 * numbers the simulator's own clock is built from). The simulator never reaches
 * into the gateway: it talks HTTP and MQTT, as meters and households do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const heliosBin = fileURLToPath(new URL('../bin/helios.js', import.meta.url));

export interface ClockSpec {
  speed: number;
  /** Simulated time (ms) at the real instant `anchor`. */
  start: number;
  anchor: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface GridOptions {
  dir: string;
  grid: string;
  genesisTime: number;
  marketPeriodMs: number;
  blockPeriodMs: number;
  clearing: string;
  /** on-grid | islanded (helios init --mode). */
  mode: string;
}

/** `helios init` with an insecure demo key (a simulation's grid is thrown away). */
export async function createGrid(o: GridOptions): Promise<{ http: number; mqtt: number }> {
  const http = await freePort();
  const mqtt = await freePort();
  const r = spawnSync(process.execPath, [heliosBin, 'init', '--data', o.dir, '--grid', o.grid, '--name', 'Simulated neighbourhood',
    '--insecure-demo-key', '--genesis-time', String(o.genesisTime), '--market-period', String(o.marketPeriodMs),
    '--block-period', String(o.blockPeriodMs), '--clearing', o.clearing, '--mode', o.mode,
    '--http-port', String(http), '--mqtt-port', String(mqtt), '--mqtt-tls-port', 'off', '--mqtt-ws-port', 'off'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helios init failed:\n${r.stderr}${r.stdout}`);
  return { http, mqtt };
}

export class GatewayProcess {
  child?: ChildProcess;
  url = '';
  mqttUrl = '';
  private output = '';
  private readonly stopping = new WeakSet<ChildProcess>();
  restarts = 0;
  /** Set when the gateway exits without being asked to: what a failed run reports. */
  died: string | undefined;

  constructor(readonly dir: string, readonly clock: ClockSpec, private readonly logLevel = 'warn') {}

  async start(): Promise<void> {
    const runFile = join(this.dir, 'run', 'gateway.json');
    // HELIOS_SIM_GATEWAY_NODE_ARGS: extra Node flags for the gateway, e.g. "--cpu-prof --cpu-prof-dir=prof" to profile a run.
    const nodeArgs = (process.env.HELIOS_SIM_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, heliosBin, 'gateway', '--data', this.dir, '--log-level', this.logLevel,
      '--speed', String(this.clock.speed), '--clock-start', String(this.clock.start), '--clock-anchor', String(this.clock.anchor)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d) => this.keep(d));
    child.stderr!.on('data', (d) => this.keep(d));
    child.once('exit', (code, signal) => {
      if (!this.stopping.has(child)) this.died = `helios gateway (pid ${child.pid}) exited by itself (${signal ?? `code ${code}`})`;
    });
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`helios gateway exited (${child.exitCode}):\n${this.output}`);
      if (existsSync(runFile)) {
        try {
          const info = JSON.parse(readFileSync(runFile, 'utf8')) as { pid: number; http: string; mqtt: string };
          if (info.pid === child.pid && (await fetch(info.http + '/api/health').then((r) => r.ok, () => false))) {
            this.url = info.http;
            this.mqttUrl = info.mqtt;
            return;
          }
        } catch { /* being written */ }
      }
      if (Date.now() - started > 60_000) {
        child.kill('SIGKILL');
        throw new Error(`helios gateway did not start within 60 s:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private keep(d: Buffer): void {
    this.output = (this.output + d.toString()).slice(-20_000);
    // For diagnosing a run: the gateway's whole output, as it comes.
    if (process.env.HELIOS_SIM_GATEWAY_LOG) appendFileSync(process.env.HELIOS_SIM_GATEWAY_LOG, d);
  }

  /** The gateway's recent output (for diagnosing a failed run). */
  get log(): string {
    return this.output;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    this.stopping.add(c);
    c.kill(signal);
    await exited;
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    this.restarts++;
    await this.start();
  }

  /**
   * The running gateway's CPU time so far (s) and its peak RSS (MiB), from /proc
   * (Linux); undefined elsewhere or when it is not running.
   */
  usage(): { cpuSeconds: number; peakRssMiB: number } | undefined {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return undefined;
    try {
      // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second on Linux).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return { cpuSeconds, peakRssMiB: hwm ? Math.round(Number(hwm[1]) / 1024) : 0 };
    } catch {
      return undefined;
    }
  }

  /** `helios ledger verify` on the grid's data: exit code and output. */
  verify(): { ok: boolean; output: string } {
    const r = spawnSync(process.execPath, [heliosBin, 'ledger', 'verify', '--data', this.dir], { encoding: 'utf8' });
    return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() };
  }
}
