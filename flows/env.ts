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
import { makeFlowsEnv } from './process.ts';

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
  return makeFlowsEnv({
    grid: genesis.grid, mqttUrl: mqtt, apiUrl: api, operatorSecret: secret, marketPeriodMs: genesis.marketPeriodMs,
    userDir: join(p.dir, 'flows'), port: o.port, host: o.host, editor: o.editor, readOnly: o.readOnly, logLevel: o.logLevel,
    flowFile: env.HELIOS_FLOWS_FILE || undefined,
  });
}
