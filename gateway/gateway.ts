/**
 * `helios gateway`: the composition root. Opens the grid's data directory, the
 * SQLite file and the ledger; starts block production on the clock, the MQTT
 * broker with the readings pipeline, and the HTTP API; and writes run/gateway.json
 * so CLI commands can find it.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HeliosError, systemClock, type Clock, type KeyPair } from '../protocol/index.ts';
import { createApi } from './api/server.ts';
import { authorityRoutes } from './api/routes/authority.ts';
import { ledgerRoutes } from './api/routes/ledger.ts';
import { marketRoutes } from './api/routes/market.ts';
import { meterRoutes } from './api/routes/meters.ts';
import { AuthoritySigner } from './authority.ts';
import { HeliosBroker } from './broker/server.ts';
import { dataPaths, loadConfig, loadGenesis, type DataPaths, type GatewayConfig, type RunInfo } from './config.ts';
import { BatchVerifier } from './crypto/batchVerifier.ts';
import { VerifierPool } from './crypto/verifierPool.ts';
import { openKey, readKeystore } from './keystore.ts';
import { ChainStore } from './ledger/chainStore.ts';
import { Ledger } from './ledger/ledger.ts';
import { verifyChain } from './ledger/verify.ts';
import { MarketService } from './market/service.ts';
import { createLogger, type Logger } from './log.ts';
import { CreditService } from './metering/credit.ts';
import { ReadingsPipeline } from './metering/pipeline.ts';
import { MeteringService } from './metering/service.ts';
import { Availability } from './metering/status.ts';
import { MeteringStore } from './metering/store.ts';
import { Metrics } from './metrics.ts';
import { BlockProducer } from './producer.ts';
import { SecretChecker } from './secrets.ts';
import { openDb, type DB } from './store/db.ts';
import { ensureTls, readTls, tlsFiles } from './tls.ts';

export interface GatewayOptions {
  dataDir: string;
  clock?: Clock;
  /** How an accelerated `clock` was made, written to run/gateway.json for virtual meters (helios meter run). */
  clockInfo?: RunInfo['clock'];
  /** Passphrase of the authority key file (not needed for an insecure demo key). */
  passphrase?: string;
  httpHost?: string;
  /** 0 picks a free port. */
  httpPort?: number;
  /** MQTT ports: 0 picks a free one, null turns the listener off. Default: gateway.json. */
  mqttPort?: number | null;
  mqttTlsPort?: number | null;
  mqttWsPort?: number | null;
  mqttHost?: string;
  log?: Logger;
  /** Signature-checking worker threads (default: one per core but one, at least one). */
  verifyWorkers?: number;
  /** Market: issue the broadcasts when Node-RED has not (default true; tests of other parts may turn it off). */
  marketFallback?: boolean;
  /** Override broker limits (tests). */
  limits?: Partial<Pick<GatewayConfig['mqtt'], 'maxPacketBytes' | 'ratePerSec' | 'burstSec' | 'maxClients' | 'handshakeTimeoutMs' | 'idleTimeoutMs' | 'pending' | 'helloTtlMs'>>;
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
  readonly verifierPool: VerifierPool;
  readonly metrics: Metrics;
  readonly metering: MeteringStore;
  readonly availability: Availability;
  readonly pipeline: ReadingsPipeline;
  readonly credits: CreditService;
  readonly service: MeteringService;
  readonly market: MarketService;
  broker!: HeliosBroker;
  httpUrl = '';
  private readonly opts: GatewayOptions;

  private constructor(opts: GatewayOptions) {
    this.opts = opts;
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
    this.metrics = new Metrics();
    this.db = openDb(this.paths.db);
    // One core stays with the main thread (broker, rules, SQLite): on 2 cores one worker beats two (bench/ingest).
    this.verifierPool = new VerifierPool(opts.verifyWorkers ?? Math.max(1, cpus().length - 1));
    const verifier = new BatchVerifier(this.verifierPool);
    try {
      this.ledger = new Ledger(new ChainStore(this.db), genesis, { verifier });
    } catch (e) {
      // Worker threads would keep a failed process alive: nothing may outlive a failed start.
      void this.verifierPool.close();
      this.db.close();
      throw e;
    }
    this.authority = new AuthoritySigner(key, this.ledger, this.clock);
    this.producer = new BlockProducer(this.ledger, key, this.clock, this.log.child({ part: 'producer' }));
    this.metering = new MeteringStore(this.db, undefined, { helloTtlMs: opts.limits?.helloTtlMs ?? this.config.mqtt.helloTtlMs, now: () => this.clock.now() });
    this.availability = new Availability(this.metering);
    const publish = (topic: string, payload: string | Buffer, o?: { retain?: boolean; qos?: 0 | 1 }) => {
      this.broker?.publish(topic, payload, o).catch((e: Error) => this.log.warn('publish failed', { topic, error: e.message }));
    };
    const mlog = this.log.child({ part: 'metering' });
    this.credits = new CreditService(genesis.grid, key, this.metering, publish, this.clock, this.metrics, mlog);
    let service: MeteringService | undefined;
    this.pipeline = new ReadingsPipeline({
      genesis, state: this.ledger.state, store: this.metering, verifier, clock: this.clock, metrics: this.metrics, log: mlog,
      sendAck: (m, seq) => service!.sendAck(m, seq),
      sendTime: (m) => service!.sendTime(m),
    });
    const operator = new SecretChecker(this.config.operator, { clock: this.clock, metrics: this.metrics, log: this.log.child({ part: 'operator' }), throttle: this.config.operatorThrottle });
    this.market = new MarketService({
      ledger: this.ledger, authority: this.authority, db: this.db, energy: (m, from, to) => this.metering.energyBetween(m, from, to),
      publish, clock: this.clock, log: this.log.child({ part: 'market' }), metrics: this.metrics, fallback: opts.marketFallback,
    });
    service = new MeteringService({
      ledger: this.ledger, store: this.metering, pipeline: this.pipeline, availability: this.availability, credits: this.credits,
      // Logins arrive one per event-loop turn; their first check of a key (decompressing it) costs
      // more than handing it to a worker, so they always go to the pool.
      authority: this.authority, operator, verifier: new BatchVerifier(this.verifierPool, 512, 0), clock: this.clock, metrics: this.metrics, log: mlog, publish,
      deliver: (id, topic, payload) => this.broker?.deliver(id, topic, payload),
      kick: (id) => this.broker?.kick(id),
      operatorCommand: (command, payload) => this.market.operatorCommand(command, payload),
    });
    this.service = service;
    const alog = this.log.child({ part: 'api' });
    this.api = createApi({ maxBodyBytes: this.config.maxBodyBytes, log: alog, refused: (code) => this.metrics.httpRefused.inc({ code }), beforeAnswer: () => this.ledger.saveUnsaved() });
    const auth = { ledger: this.ledger, clock: this.clock, operator };
    ledgerRoutes(this.api, { ledger: this.ledger, clock: this.clock, log: alog, auth });
    authorityRoutes(this.api, { ledger: this.ledger, signer: this.authority, operator, clock: this.clock, log: alog });
    meterRoutes(this.api, { ledger: this.ledger, store: this.metering, availability: this.availability, metrics: this.metrics, auth });
    marketRoutes(this.api, { ledger: this.ledger, clock: this.clock, auth });
  }

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(opts);
    try {
      await g.verifyStoredChain();
      await g.listen();
    } catch (e) {
      // A half-started gateway (a busy port, a tampered ledger) stops everything it started, so the process can exit.
      g.market.stop();
      g.producer.stop();
      await g.broker?.close().catch(() => undefined);
      g.pipeline.close();
      await g.api.close().catch(() => undefined);
      g.db.close();
      await g.verifierPool.close();
      throw e;
    }
    return g;
  }

  /**
   * Replay the stored chain from genesis — every hash, signature, rule, state row and
   * every stored figure against its signed bytes — before anything is served or
   * produced on it: a tampered database is refused, never extended (docs/security.md,
   * "Storage integrity and durability").
   */
  private async verifyStoredChain(): Promise<void> {
    const r = await verifyChain(this.ledger.store, this.ledger.genesis, { pool: this.verifierPool });
    if (!r.ok) {
      const f = r.fault!;
      throw new HeliosError('E_TAMPERED', `the ledger in ${this.paths.db} fails verification at height ${f.height}: ${f.code}: ${f.message}. The gateway will not serve or extend a tampered ledger: restore the data directory from a backup (see "helios ledger verify --data ${this.paths.dir}" for the full report)`);
    }
    this.log.info('stored chain verified', { blocks: r.blocks, txs: r.txs, readings: r.readings, ms: r.ms });
  }

  private tlsMaterial(tlsPort: number | null): { key: Buffer; cert: Buffer } | undefined {
    if (tlsPort === null) return undefined;
    const m = this.config.mqtt;
    if (m.tlsCert && m.tlsKey) return readTls({ caCert: '', cert: m.tlsCert, key: m.tlsKey });
    try {
      return readTls(ensureTls(this.paths.tls, this.ledger.genesis.grid));
    } catch (e) {
      this.log.warn('MQTTS disabled: no certificate, and openssl could not make one', { error: (e as Error).message });
      return undefined;
    }
  }

  private async listen(): Promise<void> {
    const o = this.opts;
    const m = this.config.mqtt;
    if (this.insecureKey) {
      this.log.warn('INSECURE DEMO KEY: the authority key is stored unencrypted in authority.key. Anyone who can read the data directory can sign as this authority. Never use this for a real grid.');
    }
    const tlsPort = o.mqttTlsPort !== undefined ? o.mqttTlsPort : m.tlsPort;
    const tls = this.tlsMaterial(tlsPort);
    this.broker = await HeliosBroker.start({
      grid: this.ledger.genesis.grid,
      host: o.mqttHost ?? m.host,
      port: o.mqttPort !== undefined ? o.mqttPort : m.port,
      tlsPort: tls ? tlsPort : null,
      wsPort: o.mqttWsPort !== undefined ? o.mqttWsPort : m.wsPort,
      tls,
      maxPacketBytes: o.limits?.maxPacketBytes ?? m.maxPacketBytes,
      ratePerSec: o.limits?.ratePerSec ?? m.ratePerSec,
      burstSec: o.limits?.burstSec ?? m.burstSec,
      maxClients: o.limits?.maxClients ?? m.maxClients,
      handshakeTimeoutMs: o.limits?.handshakeTimeoutMs ?? m.handshakeTimeoutMs,
      idleTimeoutMs: o.limits?.idleTimeoutMs ?? m.idleTimeoutMs,
      pending: o.limits?.pending ?? m.pending,
    }, this.service, this.clock, this.metrics, this.log.child({ part: 'broker' }));
    this.service.start();
    // Before block production: whatever the market owes after a restart goes into the first block.
    this.market.start();
    await this.api.listen({ host: o.httpHost ?? this.config.http.host, port: o.httpPort ?? this.config.http.port });
    const addr = this.api.server.address() as AddressInfo;
    this.httpUrl = `http://${hostPart(addr.address)}:${addr.port}`;
    this.producer.start();
    this.writeRunInfo();
    this.log.info('gateway started', { grid: this.ledger.genesis.grid, height: this.ledger.tip.height, http: this.httpUrl, mqtt: this.mqttUrl });
  }

  get mqttUrl(): string | undefined {
    const host = hostPart(this.opts.mqttHost ?? this.config.mqtt.host);
    return this.broker?.ports.tcp !== undefined ? `mqtt://${host}:${this.broker.ports.tcp}` : undefined;
  }

  runInfo(): RunInfo {
    const host = hostPart(this.opts.mqttHost ?? this.config.mqtt.host);
    const p = this.broker?.ports ?? {};
    const ca = tlsFiles(this.paths.tls).caCert;
    return {
      pid: process.pid,
      http: this.httpUrl,
      ...(p.tcp !== undefined ? { mqtt: `mqtt://${host}:${p.tcp}` } : {}),
      ...(p.tls !== undefined ? { mqttTls: `mqtts://${host}:${p.tls}` } : {}),
      ...(p.ws !== undefined ? { mqttWs: `ws://${host}:${p.ws}` } : {}),
      ...(p.tls !== undefined && existsSync(ca) ? { caCert: ca } : {}),
      startedAt: new Date().toISOString(),
      grid: this.ledger.genesis.grid,
      ...(this.opts.clockInfo ? { clock: this.opts.clockInfo } : {}),
    };
  }

  protected writeRunInfo(): void {
    mkdirSync(dirname(this.paths.runFile), { recursive: true });
    writeFileSync(this.paths.runFile, JSON.stringify(this.runInfo(), null, 2) + '\n');
  }

  async stop(): Promise<void> {
    this.market.stop();
    this.producer.stop();
    await this.broker.close();
    this.pipeline.close();
    this.metering.flush();
    await this.api.close();
    rmSync(this.paths.runFile, { force: true });
    this.db.close();
    await this.verifierPool.close();
    this.log.info('gateway stopped');
  }
}

function hostPart(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}
