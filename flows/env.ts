/**
 * What the flows need to know about a grid, derived from its data directory (the
 * same one `helios gateway --data DIR` runs on): grid id and market period from
 * genesis.json, broker and HTTP API from the running gateway's run/gateway.json (or
 * gateway.json's fixed ports), the operator credential from operator.secret (or
 * HELIOS_OPERATOR_SECRET). Returned as the environment flows/settings.cjs reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPaths, loadConfig, loadGenesis, readRunInfo } from '../gateway/config.ts';

export class FlowsConfigError extends Error {
  readonly code = 'E_FLOWS_CONFIG';
}

export interface FlowsOptions {
  dataDir: string;
  /** Dashboard and (with editor) admin port; 0 is not allowed here: pick one first. */
  port: number;
  host?: string;
  /** Serve the editor and admin API (behind the operator secret). */
  editor?: boolean;
  /** Load the flows without writing anything (the CI check). */
  readOnly?: boolean;
  logLevel?: string;
}

const hostPart = (h: string) => (h.includes(':') ? `[${h}]` : h);

export function flowsEnv(o: FlowsOptions, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const p = dataPaths(o.dataDir);
  let genesis;
  let config;
  try {
    genesis = loadGenesis(p);
    config = loadConfig(p);
  } catch (e) {
    throw new FlowsConfigError((e as Error).message);
  }
  const run = readRunInfo(p);
  const mqtt = run?.mqtt ?? (config.mqtt.port ? `mqtt://${hostPart(config.mqtt.host)}:${config.mqtt.port}` : undefined);
  const api = run?.http ?? (config.http.port ? `http://${hostPart(config.http.host)}:${config.http.port}` : undefined);
  if (!mqtt || !api) {
    throw new FlowsConfigError(`the gateway for ${p.dir} is not running and its gateway.json picks free ports, so the flows cannot know where it listens: start "helios gateway --data ${p.dir}" first`);
  }
  const secret = env.HELIOS_OPERATOR_SECRET || (existsSync(p.operatorSecret) ? readFileSync(p.operatorSecret, 'utf8').trim() : '');
  if (!secret) throw new FlowsConfigError(`no operator credential: ${p.operatorSecret} is missing and HELIOS_OPERATOR_SECRET is not set`);
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new FlowsConfigError(`--port must be a port number, got ${o.port}`);
  return {
    HELIOS_GRID: genesis.grid,
    HELIOS_MQTT_URL: mqtt,
    HELIOS_API_URL: api,
    HELIOS_OPERATOR_SECRET: secret,
    HELIOS_MARKET_PERIOD_MS: String(genesis.marketPeriodMs),
    HELIOS_FLOWS_USER_DIR: join(p.dir, 'flows'),
    HELIOS_FLOWS_PORT: String(o.port),
    HELIOS_FLOWS_HOST: o.host ?? '127.0.0.1',
    ...(o.editor ? { HELIOS_FLOWS_EDITOR: '1' } : {}),
    ...(o.readOnly ? { HELIOS_FLOWS_READONLY: '1' } : {}),
    ...(o.logLevel ? { HELIOS_FLOWS_LOG_LEVEL: o.logLevel } : {}),
    ...(env.HELIOS_FLOWS_FILE ? { HELIOS_FLOWS_FILE: env.HELIOS_FLOWS_FILE } : {}),
  };
}
