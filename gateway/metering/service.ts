/**
 * What the broker's messages mean to the gateway, and what the gateway tells the
 * meters: readings into the pipeline, acknowledgements, time, credit tokens,
 * enrolment certificates, availability, Home Assistant discovery, transactions
 * submitted over MQTT and the chain head. Implements the broker's handlers.
 */
import type { Client, PublishPacket } from 'aedes';
import {
  canonicalize, decode, HelloBody, isHeliosError, keyIdOf, MAX_METER_MESSAGE_BYTES, MAX_TX_BYTES, parseTopic, signed,
  StatusMessage, topics, TxBody, verifyBody, type AckMessage, type RestoreMessage, type Clock, type EnrolmentBody, type SignedTx, type TimeMessage, type TxResultMessage,
} from '../../protocol/index.ts';
import type { BatchVerifier } from '../crypto/batchVerifier.ts';
import type { AuthoritySigner } from '../authority.ts';
import { sha256Hex } from '../crypto/hash.ts';
import { signBodyFast } from '../crypto/sign.ts';
import type { Role } from '../broker/acl.ts';
import { authenticate, type Login } from '../broker/auth.ts';
import type { BrokerHandlers, LoginContext } from '../broker/server.ts';
import { keys, type MeterEntry } from '../ledger/entities.ts';
import type { CommittedBlock, Ledger } from '../ledger/ledger.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { SecretChecker } from '../secrets.ts';
import { CreditService, type CreditRequest } from './credit.ts';
import { discoveryConfigs, discoveryRemovals } from './homeAssistant.ts';
import type { ReadingsPipeline } from './pipeline.ts';
import type { Availability } from './status.ts';
import type { MeteringStore } from './store.ts';

const SignedTxSchema = signed(TxBody);
const SignedHello = signed(HelloBody);

export interface MeteringDeps {
  ledger: Ledger;
  store: MeteringStore;
  pipeline: ReadingsPipeline;
  availability: Availability;
  credits: CreditService;
  authority: AuthoritySigner;
  operator: SecretChecker;
  /** Login signatures are checked here (worker threads, in batches). */
  verifier: BatchVerifier;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  publish(topic: string, payload: string | Buffer, opts?: { retain?: boolean; qos?: 0 | 1 }): void;
  /** Send to one client directly (a meter's own messages); its client id is its meter id. */
  deliver(clientId: string, topic: string, payload: string): void;
  kick(clientId: string): void;
  /** Operator commands from Node-RED (market broadcasts); the market wires this. */
  operatorCommand?(command: 'broadcast' | 'close', payload: Buffer): void;
}

export class MeteringService implements BrokerHandlers {
  private readonly grid: string;
  /** Transactions submitted over MQTT, to report their outcome to the submitter. */
  private readonly mqttTxs = new Map<string, string>();

  constructor(private readonly d: MeteringDeps) {
    this.grid = d.ledger.genesis.grid;
    d.ledger.on('block', (b) => this.onBlock(b));
    d.ledger.on('rejected', (r) => {
      d.metrics.txsRejected.inc({ code: r.code });
      const signer = this.mqttTxs.get(r.id);
      if (signer) {
        this.mqttTxs.delete(r.id);
        this.result(signer, { type: 'TxResult', tx: r.id, status: 'rejected', code: r.code, message: r.message });
      }
    });
  }

  /** Announce what is retained for every enrolled meter (retained messages do not survive a broker restart). */
  start(): void {
    for (const [, m] of this.d.ledger.state.entries<MeterEntry>('meter/')) {
      if (m.revoked) continue;
      this.announceMeter(m);
    }
    this.publishHead();
  }

  // — broker handlers —

  authenticate(clientId: string, username: string | undefined, password: Buffer | undefined, ctx: LoginContext): Promise<Login> {
    return authenticate({
      genesis: this.d.ledger.genesis, clock: this.d.clock, state: this.d.ledger.state, operator: this.d.operator, verify: (item) => this.d.verifier.verify(item),
      counters: { get: (id) => this.d.store.loginCounter(id), set: (id, c) => this.d.store.setLoginCounter(id, c) },
      admitPending: ctx.admitPending,
    }, clientId, username, password, ctx.source);
  }

  /** Resolves once the login's counter is in SQLite, so the CONNACK never promises more than the disk holds. */
  loggedIn(login: Login): Promise<void> {
    if (!login.counter) return Promise.resolve();
    return this.d.store.commitLoginCounter(login.counter.id, login.counter.ctr, login.counter.token);
  }

  connected(client: Client, role: Role): void {
    if (role.kind === 'meter' || role.kind === 'pendingMeter' || role.kind === 'restoringMeter') this.d.availability.connected(role.id, this.d.clock.now());
    this.d.log.info('mqtt client connected', { client: client.id, role: role.kind });
  }

  disconnected(client: Client, role: Role): void {
    if (role.kind === 'meter' || role.kind === 'pendingMeter' || role.kind === 'restoringMeter') this.d.availability.disconnected(role.id, this.d.clock.now());
    this.d.log.info('mqtt client disconnected', { client: client.id, role: role.kind });
  }

  subscribed(_client: Client, role: Role, topic: string): void {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'meter' || (role.kind !== 'meter' && role.kind !== 'pendingMeter' && role.kind !== 'restoringMeter') || t.meter !== role.id) return;
    if (t.leaf === 'time') this.sendTime(t.meter);
    if (t.leaf === 'restore') this.sendRestore(t.meter);
    if (t.leaf === 'ack' && role.kind === 'meter') this.sendAck(t.meter, this.d.pipeline.storedSeq(t.meter));
    if (t.leaf === 'credit' && role.kind === 'meter') this.d.credits.resend(t.meter);
  }

  async published(client: Client | null, role: Role | undefined, packet: PublishPacket): Promise<boolean> {
    const t = parseTopic(packet.topic);
    if (!t) return true; // $SYS and the like
    const payload = packet.payload as Buffer;
    if (t.kind === 'meter') {
      if (t.leaf === 'reading') {
        // The broker goes on reading the meter's next packets at once; a reading reaches
        // subscribers (a household's Home Assistant) only once it is verified.
        const topic = packet.topic;
        void this.d.pipeline.ingest(t.meter, payload).then((v) => {
          if (!v.ok) return;
          this.d.availability.seen(t.meter, this.d.clock.now());
          this.d.publish(topic, payload);
        });
        return false;
      }
      if (t.leaf === 'status') return this.status(t.meter, payload);
      if (t.leaf === 'hello') return role?.kind === 'meter' ? false : this.hello(t.meter, payload); // an enrolled meter's Hello needs no answer
      return false;
    }
    if (t.kind === 'tx') {
      this.submitTx(payload, client?.id);
      return false;
    }
    if (t.kind === 'operator') {
      if (this.d.operatorCommand) this.d.operatorCommand(t.command, payload);
      else this.d.log.warn('operator command ignored: no market is running', { command: t.command });
      return false;
    }
    if (t.kind === 'chainBlock') {
      this.d.log.info('block from another authority ignored: this gateway does not follow other authorities yet', { from: client?.id });
      return false;
    }
    void role; // the ACL has already decided what this role may publish
    return false;
  }

  // — meter messages —

  private refuseMessage(meter: string, code: string, message: string): false {
    this.d.metrics.readingsRejected.inc({ code });
    this.d.log.warn('meter message refused', { meter, code, message });
    return false;
  }

  private status(meter: string, payload: Buffer): boolean {
    if (payload.length === 0) return true; // clearing a retained status
    try {
      const s = decode(payload, StatusMessage, MAX_METER_MESSAGE_BYTES);
      if (s.meter !== meter) return this.refuseMessage(meter, 'E_TOPIC_MISMATCH', `status for meter ${s.meter} was published under meter ${meter}'s topic`);
      this.d.availability.reported(s, this.d.clock.now());
      return true;
    } catch (e) {
      if (isHeliosError(e)) return this.refuseMessage(meter, e.code, e.message);
      throw e;
    }
  }

  private hello(meter: string, payload: Buffer): boolean {
    try {
      const h = decode(payload, SignedHello, MAX_METER_MESSAGE_BYTES);
      if (h.body.meter !== meter || keyIdOf(h.body.publicKey) !== meter) return this.refuseMessage(meter, 'E_METER_ID_MISMATCH', `Hello from ${meter} names meter ${h.body.meter} with key ${keyIdOf(h.body.publicKey)}`);
      if (h.body.grid !== this.grid) return this.refuseMessage(meter, 'E_WRONG_GRID', `Hello is for grid ${h.body.grid}`);
      if (!verifyBody(h, h.body.publicKey)) return this.refuseMessage(meter, 'E_BAD_SIGNATURE', `Hello from ${meter} is not signed by its key`);
      this.d.store.saveHello(meter, h.body.publicKey, h.body.fw, this.d.clock.now());
      this.d.log.info('meter waiting for enrolment', { meter, fw: h.body.fw, publicKey: h.body.publicKey });
      return false;
    } catch (e) {
      if (isHeliosError(e)) return this.refuseMessage(meter, e.code, e.message);
      throw e;
    }
  }

  sendAck(meter: string, seq: number): void {
    const ack: AckMessage = { type: 'Ack', meter, seq, t: this.d.clock.now() };
    this.d.deliver(meter, topics.meter(this.grid, meter, 'ack'), canonicalize(ack));
  }

  /**
   * docs/protocol.md §4, "Restore": the meter's own newest stored reading and its own
   * last counter login, both exactly as it signed them, to this meter only (the ACL
   * lets no one else subscribe to its restore topic, and it is delivered to its
   * client alone).
   */
  sendRestore(meter: string): void {
    const m: RestoreMessage = { type: 'Restore', meter, t: this.d.clock.now() };
    const reading = this.d.store.lastReading(meter)?.envelope;
    const login = this.d.store.loginToken(meter);
    if (reading !== undefined) m.reading = reading;
    if (login !== undefined) m.login = login;
    this.d.metrics.meterRestores.inc();
    this.d.log.warn('meter asked to be restored from its last stored reading', { meter, seq: this.d.store.lastReading(meter)?.seq ?? null, login: login !== undefined });
    this.d.deliver(meter, topics.meter(this.grid, meter, 'restore'), canonicalize(m));
  }

  sendTime(meter: string): void {
    const time: TimeMessage = { type: 'Time', t: this.d.clock.now() };
    this.d.deliver(meter, topics.meter(this.grid, meter, 'time'), canonicalize(time));
  }

  /** The internal API to credit a meter (docs/protocol.md §4): sign, record, send. */
  issueCredit(r: CreditRequest) {
    return this.d.credits.issue(r);
  }

  // — transactions over MQTT —

  private result(signer: string, r: TxResultMessage): void {
    this.d.publish(topics.txResult(this.grid, signer), canonicalize(r));
  }

  private submitTx(payload: Buffer, client?: string): void {
    let tx: SignedTx;
    try {
      tx = decode(payload, SignedTxSchema, MAX_TX_BYTES) as SignedTx;
    } catch (e) {
      if (!isHeliosError(e)) throw e;
      this.d.metrics.txsRejected.inc({ code: e.code });
      this.d.log.warn('transaction over MQTT refused', { client, code: e.code, message: e.message });
      return;
    }
    const signer = tx.body.signer;
    this.d.ledger.submitAsync(tx, () => this.d.clock.now()).then(
      (id) => {
        this.mqttTxs.set(id, signer);
        if (this.mqttTxs.size > 100_000) this.mqttTxs.delete(this.mqttTxs.keys().next().value!);
        this.result(signer, { type: 'TxResult', tx: id, status: 'pending' });
      },
      (e: unknown) => {
        if (!isHeliosError(e)) return this.d.log.error('transaction over MQTT failed', { error: String(e) });
        this.d.metrics.txsRejected.inc({ code: e.code });
        this.result(signer, { type: 'TxResult', tx: sha256Hex(canonicalize(tx.body)), status: 'rejected', code: e.code, message: e.message.slice(0, 400) });
      },
    );
  }

  // — after each block —

  private onBlock(c: CommittedBlock): void {
    this.d.metrics.blocks.inc();
    this.d.metrics.txsCommitted.inc(c.block.txs.length);
    for (const { txId, events } of c.events) {
      const signer = this.mqttTxs.get(txId);
      if (signer) {
        this.mqttTxs.delete(txId);
        this.result(signer, { type: 'TxResult', tx: txId, status: 'committed', height: c.block.header.height, block: c.block.hash });
      }
      for (const ev of events) {
        if (ev.kind === 'meterEnrolled') {
          const m = this.d.ledger.state.get<MeterEntry>(keys.meter(ev.meter as string));
          if (m) this.announceMeter(m);
        } else if (ev.kind === 'meterRevoked') {
          const m = this.d.ledger.state.get<MeterEntry>(keys.meter(ev.meter as string));
          if (m) this.retractMeter(m);
        } else if (ev.kind === 'lowBalance') {
          // docs/market.md §9.3: the prepaid warning; the household tops up or its relay opens when the balance runs out.
          this.d.metrics.lowBalanceWarnings.inc();
          this.d.log.warn('low balance: the next period\'s utility allowance is not covered', {
            participant: ev.participant, meter: ev.meter, listing: ev.listing, balanceMicroHec: ev.balanceMicroHec, allowanceMWh: ev.allowanceMWh, fullAllowanceMicroHec: ev.fullAllowanceMicroHec,
          });
        } else if (ev.kind === 'creditDue') {
          this.d.credits.issue({
            meter: ev.meter as string, energyMWh: ev.energyMWh as number, validFrom: ev.validFrom as number,
            validUntil: ev.validUntil as number, ref: ev.ref as string,
          });
        }
      }
    }
    this.publishHead();
  }

  private publishHead(): void {
    const tip = this.d.ledger.tip;
    if (tip.height === 0) return;
    const row = this.d.ledger.store.blockRow(tip.height);
    if (row) this.d.publish(topics.chainHead(this.grid), `{"hash":"${row.hash}","header":${row.header},"sig":"${row.sig}"}`, { retain: true });
  }

  private announceMeter(m: MeterEntry): void {
    // The certificate is dated by the block that enrolled the meter, so it is identical on every announcement.
    const row = m.since > 0 ? this.d.ledger.store.blockRow(m.since) : undefined;
    const enrolledAt = row ? parseHeaderTime(row.header) : this.d.ledger.genesis.t;
    const cert: EnrolmentBody = {
      type: 'Enrolment', grid: this.grid, meter: m.meter, participant: m.participant, authority: this.d.authority.key.publicKey,
      pulsesPerKWh: m.pulsesPerKWh, relay: m.relay, t: enrolledAt,
    };
    this.d.publish(topics.meter(this.grid, m.meter, 'enrolment'), canonicalize(signBodyFast(cert, this.d.authority.key)), { retain: true });
    for (const c of discoveryConfigs(this.grid, m, this.d.availability.get(m.meter)?.fw ?? '')) {
      this.d.publish(c.topic, JSON.stringify(c.config), { retain: true });
    }
  }

  private retractMeter(m: MeterEntry): void {
    this.d.publish(topics.meter(this.grid, m.meter, 'enrolment'), '', { retain: true });
    for (const c of discoveryRemovals(m)) this.d.publish(c.topic, '', { retain: true });
    this.d.kick(m.meter);
    this.d.log.info('meter revoked: disconnected, discovery removed', { meter: m.meter });
  }
}

function parseHeaderTime(header: string): number {
  return (JSON.parse(header) as { t: number }).t;
}
