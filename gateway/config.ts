/**
 * A grid's data directory (./data unless --data DIR):
 *   genesis.json        the chain's genesis (docs/protocol.md §6)
 *   authority.key       this gateway's authority key (encrypted keystore)
 *   gateway.json        configuration: ports, operator credential hash, limits
 *   operator.secret     the operator secret in the clear (mode 0600; delete it if you keep it elsewhere)
 *   ledger.sqlite       blocks, transactions, state, readings (WAL)
 *   run/gateway.json    where a running gateway listens (removed when it stops)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode, fail, Genesis } from '../protocol/index.ts';
import { checkGenesis } from './ledger/genesis.ts';
import type { PendingPoolLimits } from './broker/admission.ts';
import type { SecretHash, SecretThrottle } from './secrets.ts';

export interface GatewayConfig {
  http: { host: string; port: number };
  /** Ports: 0 picks a free one; null turns a listener off. */
  mqtt: {
    host: string;
    port: number | null;
    tlsPort: number | null;
    wsPort: number | null;
    /** Certificate and key files for MQTTS; default: the ones `helios init` made in DIR/tls. */
    tlsCert?: string;
    tlsKey?: string;
    maxPacketBytes: number;
    ratePerSec: number;
    burstSec: number;
    maxClients: number;
    /** From a socket's accept to CONNACK, on every MQTT listener (ms). */
    handshakeTimeoutMs: number;
    /** A client with MQTT keep-alive 0 is closed after this long without traffic (ms). */
    idleTimeoutMs: number;
    /** The pending meters' pool and its rates (docs/security.md). */
    pending?: Partial<PendingPoolLimits>;
    /** A Hello leaves `helios meter pending` / GET /api/meters/pending this long after it was last heard (ms). */
    helloTtlMs: number;
  };
  operator: SecretHash;
  /** Wrong operator secrets per source address, and the lockout after (docs/security.md). */
  operatorThrottle?: Partial<SecretThrottle>;
  /** Largest accepted HTTP body in bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_CONFIG: Omit<GatewayConfig, 'operator'> = {
  http: { host: '127.0.0.1', port: 8080 },
  mqtt: { host: '127.0.0.1', port: 1883, tlsPort: 8883, wsPort: 8083, maxPacketBytes: 64 * 1024, ratePerSec: 20, burstSec: 10, maxClients: 20_000, handshakeTimeoutMs: 10_000, idleTimeoutMs: 5 * 60_000, helloTtlMs: 60 * 60_000 },
  maxBodyBytes: 64 * 1024,
};

export interface DataPaths {
  dir: string;
  genesis: string;
  authorityKey: string;
  config: string;
  operatorSecret: string;
  db: string;
  runFile: string;
  tls: string;
}

export function dataPaths(dataDir = 'data'): DataPaths {
  const dir = resolve(dataDir);
  return {
    dir,
    genesis: join(dir, 'genesis.json'),
    authorityKey: join(dir, 'authority.key'),
    config: join(dir, 'gateway.json'),
    operatorSecret: join(dir, 'operator.secret'),
    db: join(dir, 'ledger.sqlite'),
    runFile: join(dir, 'run', 'gateway.json'),
    tls: join(dir, 'tls'),
  };
}

export function loadGenesis(p: DataPaths): Genesis {
  if (!existsSync(p.genesis)) fail('E_NO_GRID', `no grid in ${p.dir}: genesis.json is missing. Create one with "helios init --data ${p.dir}"`);
  const g = decode(readFileSync(p.genesis, 'utf8'), Genesis, 16 * 1024 * 1024);
  checkGenesis(g);
  return g;
}

export function loadConfig(p: DataPaths): GatewayConfig {
  if (!existsSync(p.config)) fail('E_NO_GRID', `no gateway.json in ${p.dir}. Create a grid with "helios init --data ${p.dir}"`);
  const c = JSON.parse(readFileSync(p.config, 'utf8')) as Partial<GatewayConfig>;
  return {
    ...DEFAULT_CONFIG,
    ...c,
    http: { ...DEFAULT_CONFIG.http, ...c.http },
    mqtt: { ...DEFAULT_CONFIG.mqtt, ...c.mqtt },
    operator: c.operator as SecretHash,
  };
}

/** What a running gateway writes so CLI commands can find it. */
export interface RunInfo {
  pid: number;
  http: string;
  mqtt?: string;
  mqttTls?: string;
  mqttWs?: string;
  /** CA certificate that signs the MQTTS server certificate. */
  caCert?: string;
  startedAt: string;
  grid: string;
  /** An accelerated clock (--speed): simulated time `start` at real time `anchor`, `speed` times faster; a virtual meter runs on it too. */
  clock?: { speed: number; start: number; anchor: number };
}

export function readRunInfo(p: DataPaths): RunInfo | undefined {
  if (!existsSync(p.runFile)) return undefined;
  try {
    return JSON.parse(readFileSync(p.runFile, 'utf8')) as RunInfo;
  } catch {
    return undefined;
  }
}
