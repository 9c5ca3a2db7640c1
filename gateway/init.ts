/** Creating a grid: genesis, the authority keystore, gateway configuration and an initialised ledger. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fail, generateKeyPair, Genesis, keyIdOf, type ClearingMechanism, type KeyPair } from '../protocol/index.ts';
import { DEFAULT_CONFIG, dataPaths, type DataPaths, type GatewayConfig } from './config.ts';
import { insecureKey, sealKey, writeKeystore } from './keystore.ts';
import { ChainStore } from './ledger/chainStore.ts';
import { checkGenesis } from './ledger/genesis.ts';
import { Ledger } from './ledger/ledger.ts';
import { hashSecret, newSecret } from './secrets.ts';
import { openDb } from './store/db.ts';
import { ensureTls } from './tls.ts';

export interface InitOptions {
  dataDir: string;
  grid: string;
  name: string;
  blockPeriodMs: number;
  marketPeriodMs: number;
  clearing: ClearingMechanism;
  priceCapMicroHecPerKWh: number;
  storage: Genesis['storage'];
  authorityName: string;
  /** Further authorities (other gateways), after this one in slot order. */
  extraAuthorities: Array<{ publicKey: string; name: string }>;
  participants: Genesis['participants'];
  allocations: Genesis['allocations'];
  maxMintMicroHec?: number;
  /** The utility connection (docs/market.md §9); absent: none in genesis (the rules before it). */
  utility?: Genesis['utility'];
  /** Store the authority key unencrypted (demo only). */
  insecure: boolean;
  passphrase?: string;
  /** Genesis time (ms). */
  t: number;
  /** Entropy for the authority key (tests); defaults to the OS CSPRNG. */
  entropy?: (n: number) => Uint8Array;
  /** Ports to write into gateway.json. */
  ports?: Partial<{ http: number; mqtt: number | null; mqttTls: number | null; mqttWs: number | null }>;
  /** Make the MQTTS certificate now (needs openssl); default true. */
  tls?: boolean;
}

export interface InitResult {
  paths: DataPaths;
  genesis: Genesis;
  authority: KeyPair;
  operatorSecret: string;
}

export function initGrid(o: InitOptions): InitResult {
  const paths = dataPaths(o.dataDir);
  for (const f of [paths.genesis, paths.authorityKey, paths.db, paths.config]) {
    if (existsSync(f)) fail('E_EXISTS', `${f} already exists: ${paths.dir} already holds a grid. Refusing to overwrite it; choose another --data directory`);
  }
  if (!o.insecure && o.passphrase === undefined) fail('E_PASSPHRASE_REQUIRED', 'the authority key needs a passphrase (or --insecure-demo-key for a demo)');
  mkdirSync(paths.dir, { recursive: true });
  const authority = generateKeyPair(o.entropy ?? ((n) => new Uint8Array(randomBytes(n))));
  const genesis: Genesis = Genesis.parse({
    type: 'Genesis',
    grid: o.grid,
    name: o.name,
    t: o.t,
    authorities: [
      { keyId: authority.keyId, publicKey: authority.publicKey, name: o.authorityName },
      ...o.extraAuthorities.map((a) => ({ keyId: keyIdOf(a.publicKey), publicKey: a.publicKey, name: a.name })),
    ],
    blockPeriodMs: o.blockPeriodMs,
    marketPeriodMs: o.marketPeriodMs,
    clearing: o.clearing,
    priceCapMicroHecPerKWh: o.priceCapMicroHecPerKWh,
    token: { symbol: 'HEC', decimals: 6 },
    storage: o.storage,
    participants: o.participants,
    allocations: o.allocations,
    ...(o.maxMintMicroHec !== undefined ? { maxMintMicroHec: o.maxMintMicroHec } : {}),
    ...(o.utility ? { utility: o.utility } : {}),
  }, 'genesis');
  checkGenesis(genesis);
  const operatorSecret = newSecret();
  const config: GatewayConfig = {
    ...DEFAULT_CONFIG,
    http: { ...DEFAULT_CONFIG.http, port: o.ports?.http ?? DEFAULT_CONFIG.http.port },
    mqtt: {
      ...DEFAULT_CONFIG.mqtt,
      port: o.ports?.mqtt !== undefined ? o.ports.mqtt : DEFAULT_CONFIG.mqtt.port,
      tlsPort: o.ports?.mqttTls !== undefined ? o.ports.mqttTls : DEFAULT_CONFIG.mqtt.tlsPort,
      wsPort: o.ports?.mqttWs !== undefined ? o.ports.mqttWs : DEFAULT_CONFIG.mqtt.wsPort,
    },
    operator: hashSecret(operatorSecret),
  };
  writeKeystore(paths.authorityKey, o.insecure ? insecureKey(authority, o.authorityName) : sealKey(authority, o.passphrase!, o.authorityName));
  writeFileSync(paths.genesis, JSON.stringify(genesis, null, 2) + '\n', { flag: 'wx' });
  writeFileSync(paths.config, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
  writeFileSync(paths.operatorSecret, operatorSecret + '\n', { flag: 'wx', mode: 0o600 });
  if (o.tls !== false) {
    try {
      ensureTls(paths.tls, genesis.grid);
    } catch (e) {
      process.stderr.write(`warning: could not make the MQTTS certificate (${(e as Error).message}); install openssl, or set mqtt.tlsCert and mqtt.tlsKey in gateway.json\n`);
    }
  }
  const db = openDb(paths.db);
  try {
    new Ledger(new ChainStore(db), genesis);
  } finally {
    db.close();
  }
  return { paths, genesis, authority, operatorSecret };
}
