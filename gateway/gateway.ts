/**
 * `helios gateway`: the composition root. Opens the grid's data directory, the
 * SQLite file and the ledger, starts block production on the clock and the HTTP
 * API, and writes run/gateway.json so CLI commands can find it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock, type KeyPair } from '../protocol/index.ts';
import { createApi } from './api/server.ts';
import { ledgerRoutes } from './api/routes/ledger.ts';
import { authorityRoutes } from './api/routes/authority.ts';
import { AuthoritySigner } from './authority.ts';
import { dataPaths, loadConfig, loadGenesis, type DataPaths, type GatewayConfig, type RunInfo } from './config.ts';
import { openKey, readKeystore } from './keystore.ts';
import { ChainStore } from './ledger/chainStore.ts';
import { Ledger } from './ledger/ledger.ts';
import { createLogger, type Logger } from './log.ts';
import { BlockProducer } from './producer.ts';
import { SecretChecker } from './secrets.ts';
import { openDb, type DB } from './store/db.ts';

export interface GatewayOptions {
  dataDir: string;
  clock?: Clock;
  /** Passphrase of the authority key file (not needed for an insecure demo key). */
  passphrase?: string;
  httpHost?: string;
  /** 0 picks a free port. */
  httpPort?: number;
  log?: Logger;
}

export class Gateway {
  readonly paths: DataPaths;
  readonly config: GatewayConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly db: DB;
  readonly ledger: Ledger;
  readonly authority: AuthoritySigner;
  readonly producer: BlockProducer;
  readonly api: FastifyInstance;
  readonly insecureKey: boolean;
  httpUrl = '';

  private constructor(opts: GatewayOptions) {
    this.paths = dataPaths(opts.dataDir);
    this.config = loadConfig(this.paths);
    this.clock = opts.clock ?? systemClock();
    this.log = opts.log ?? createLogger();
    const genesis = loadGenesis(this.paths);
    const keyFile = readKeystore(this.paths.authorityKey);
    this.insecureKey = keyFile.insecure === true;
    const key: KeyPair = openKey(keyFile, opts.passphrase);
    if (!genesis.authorities.some((a) => a.keyId === key.keyId)) {
      throw new Error(`authority.key (${key.keyId}) is not one of this grid's authorities in genesis.json`);
    }
    this.db = openDb(this.paths.db);
    this.ledger = new Ledger(new ChainStore(this.db), genesis);
    this.authority = new AuthoritySigner(key, this.ledger, this.clock);
    this.producer = new BlockProducer(this.ledger, key, this.clock, this.log.child({ part: 'producer' }));
    this.api = createApi({ maxBodyBytes: this.config.maxBodyBytes, log: this.log.child({ part: 'api' }) });
    ledgerRoutes(this.api, { ledger: this.ledger, clock: this.clock, log: this.log.child({ part: 'api' }) });
    authorityRoutes(this.api, {
      ledger: this.ledger, signer: this.authority, operator: new SecretChecker(this.config.operator), clock: this.clock, log: this.log.child({ part: 'api' }),
    });
  }

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(opts);
    try {
      await g.listen(opts.httpHost ?? g.config.http.host, opts.httpPort ?? g.config.http.port);
    } catch (e) {
      g.db.close();
      throw e;
    }
    return g;
  }

  private async listen(host: string, port: number): Promise<void> {
    if (this.insecureKey) {
      this.log.warn('INSECURE DEMO KEY: the authority key is stored unencrypted in authority.key. Anyone who can read the data directory can sign as this authority. Never use this for a real grid.');
    }
    await this.api.listen({ host, port });
    const addr = this.api.server.address() as AddressInfo;
    this.httpUrl = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
    this.producer.start();
    this.writeRunInfo();
    this.log.info('gateway started', { grid: this.ledger.genesis.grid, height: this.ledger.tip.height, http: this.httpUrl });
  }

  runInfo(): RunInfo {
    return { pid: process.pid, http: this.httpUrl, startedAt: new Date().toISOString(), grid: this.ledger.genesis.grid };
  }

  protected writeRunInfo(): void {
    mkdirSync(dirname(this.paths.runFile), { recursive: true });
    writeFileSync(this.paths.runFile, JSON.stringify(this.runInfo(), null, 2) + '\n');
  }

  async stop(): Promise<void> {
    this.producer.stop();
    await this.api.close();
    rmSync(this.paths.runFile, { force: true });
    this.db.close();
    this.log.info('gateway stopped');
  }
}
