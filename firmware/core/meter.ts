/**
 * The meter: measures, persists, signs, delivers, and switches its relay by
 * signed credit. Pure logic over the platform interfaces (platform.ts); the
 * Moddable and Node adapters give it hardware, storage, a clock and MQTT.
 *
 * Flows (docs/protocol.md §3–4):
 * - boot: load or make the key; restore registers, sequence, login counter,
 *   wallet and enrolment; the relay holds its power-on state until credit can be
 *   judged (clock set).
 * - every reading period, once the clock is set: charge measured import to
 *   credit, persist, sign a Reading, append it to the outbox, publish it if online.
 * - online: subscribe (the meter ACL, or the pending ACL before enrolment),
 *   publish Status online (retained) and, while not enrolled, a signed Hello;
 *   resend the whole outbox, oldest first. Ack drops what it covers.
 * - Time: step the clock if unset or > 30 s off. CreditToken: verify against the
 *   enrolling authority, refuse replays, persist, then count it. Enrolment:
 *   configuration — pin the authority key; never a command.
 * - the relay is re-decided whenever energy, time or credit changes, and a timer
 *   is set for the next instant the decision could change (credit running out at
 *   the present power, a window opening or closing) — no polling.
 */
import {
  AckMessage, CreditTokenBody, EnrolmentBody, MAX_METER_MESSAGE_BYTES, TimeMessage,
  assertSignedBy, canonicalize, decode, every, fail, keyIdOf, parseJson, parseTopic, signBytes, signed,
  type EnrolmentBody as Enrolment, type ReadingBody, type RelayState, type Signed, type VerifyFn,
} from '../../protocol/index.ts';
import { Backoff } from './backoff.ts';
import { MeterClock, type TimeSource } from './clock.ts';
import type { MeterConfig } from './config.ts';
import { Counters, MeterCodes as C, codeOf, messageOf, silentLogger, type Logger } from './errors.ts';
import { DOMAIN, loadOrCreateIdentity } from './identity.ts';
import { helloPayload, loginPassword, meterTopics, offlineStatus, onlineStatus, readingPayload } from './messages.ts';
import { Outbox } from './outbox.ts';
import type {
  Clock, EnergySource, EntropySource, MqttConnectOptions, MqttConnection, MqttTransport, PreferenceStore, RelayOutput, SignFn, SignerFactory, TimerHandle,
} from './platform.ts';
import { EMPTY_STATE, decodeState, encodeState, type MeterState } from './registers.ts';
import { Session, type SessionState } from './session.ts';
import { SlotStore } from './storage.ts';
import { Wallet } from './wallet.ts';

export const ENROLMENT_PREF = 'enrol';
/** The gateway refuses readings stamped more than this far ahead of its clock (docs/protocol.md §4). */
export const FUTURE_LIMIT_MS = 5 * 60_000;
/** Readings resent per turn after a reconnect, so a small device's socket buffer is not flooded. */
const RESEND_BATCH = 8;
const RESEND_GAP_MS = 50;
const MAX_POWER_W = 1_000_000;

export interface MeterDeps {
  config: MeterConfig;
  storage: PreferenceStore;
  /** Timers and the platform's time; on a device Date.now() may be 1970 until SNTP. */
  clock: Clock;
  /** Whether `clock.now()` already holds true time at boot. */
  clockSet?: boolean;
  entropy: EntropySource;
  transport: MqttTransport;
  relay: RelayOutput;
  energy: EnergySource;
  log?: Logger;
  /** The platform's signer (hardware, or OpenSSL on Node); default: the core signs in JavaScript. */
  signer?: SignerFactory;
  /** The platform's verifier for the authority's signatures (OpenSSL on Node); default: the core verifies in JavaScript. */
  verifier?: VerifyFn;
}

/** What a person (or a test) can see of a meter at any moment. */
export interface MeterSnapshot {
  meter: string;
  publicKey: string;
  enrolled: boolean;
  session: SessionState;
  clock: 'set' | 'unset';
  /** The meter's wall time, ms; null while the clock is unset. */
  time: number | null;
  relay: RelayState;
  importMWh: number;
  exportMWh: number;
  powerW: number;
  seq: number;
  ctr: number;
  creditMWh: number;
  tokens: number;
  outbox: number[];
  outboxDropped: number;
  errors: Record<string, number>;
}

export class Meter {
  readonly meterId: string;
  readonly publicKey: string;
  readonly counters = new Counters();
  /** True when this boot made the meter's key (its first boot). */
  readonly keyCreated: boolean;
  /** Signs with the meter's key; the secret itself is not kept on the object. */
  private readonly sign: SignFn;
  private readonly verify: VerifyFn | undefined;
  private readonly cfg: MeterConfig;
  private readonly log: Logger;
  private readonly store: PreferenceStore;
  private readonly clock: Clock;
  private readonly wall: MeterClock;
  private readonly stateStore: SlotStore;
  private readonly walletStore: SlotStore;
  private readonly topics: ReturnType<typeof meterTopics>;
  private readonly outbox: Outbox;
  private readonly session: Session;
  private readonly relay: RelayOutput;
  private readonly energy: EnergySource;

  /** What the durable record holds. */
  private state: MeterState;
  private importMWh: number;
  private exportMWh: number;
  private powerW = 0;
  /** The source's cumulative counts at the last read. */
  private srcImport = 0;
  private srcExport = 0;
  private persistedAtBase: number;
  private wallet: Wallet;
  private walletDirty = false;
  private enrolment: Enrolment | undefined;
  private enrolmentText: string | undefined;
  private authorityKey: string | undefined;
  private relayClosed: boolean;
  private connection: MqttConnection | undefined;
  private started = false;
  private stopReading: (() => void) | undefined;
  private creditTimer: TimerHandle | undefined;
  private persistTimer: TimerHandle | undefined;
  private pumpTimer: TimerHandle | undefined;

  constructor(deps: MeterDeps) {
    this.cfg = deps.config;
    this.log = deps.log ?? silentLogger;
    this.store = deps.storage;
    this.clock = deps.clock;
    this.relay = deps.relay;
    this.energy = deps.energy;
    this.wall = new MeterClock(deps.clock, deps.clockSet ?? false);

    const identity = loadOrCreateIdentity(deps.storage, deps.entropy);
    this.keyCreated = identity.created;
    this.meterId = identity.key.keyId;
    this.publicKey = identity.key.publicKey;
    const secretKey = identity.key.secretKey;
    this.sign = deps.signer ? deps.signer({ secretKey, publicKey: this.publicKey }) : (m) => signBytes(m, secretKey);
    this.verify = deps.verifier;
    this.topics = meterTopics(this.cfg.grid, this.meterId);

    this.stateStore = new SlotStore(deps.storage, DOMAIN, 'state');
    this.walletStore = new SlotStore(deps.storage, DOMAIN, 'wal');
    this.state = this.loadState();
    this.importMWh = this.state.importMWh;
    this.exportMWh = this.state.exportMWh;
    this.persistedAtBase = deps.clock.now();
    this.wallet = this.loadWallet();
    this.loadEnrolment();
    this.authorityKey = this.cfg.authorityKey ?? this.enrolment?.authority;
    this.relayClosed = this.cfg.relayPowerOn === 'closed';

    this.outbox = new Outbox(this.cfg.outboxMax);
    this.session = new Session(deps.transport, deps.clock, new Backoff(this.cfg.backoff, deps.entropy), this.cfg.connectTimeoutMs, {
      prepare: () => this.prepareConnect(),
      online: (c) => this.online(c),
      message: (topic, payload) => this.guard('message', () => this.receive(topic, payload)),
      offline: (reason) => this.offline(reason),
    }, this.log);

    this.log.log('info', `meter ${this.meterId} public key ${this.publicKey}${identity.created ? ' (new key made on this device)' : ''}`);
    if (!this.enrolled) {
      this.log.log('info', `not enrolled: helios meter enroll --meter ${this.meterId} --public-key ${this.publicKey} --participant <email> --installer <name> --location <text>`);
    }
  }

  get enrolled(): boolean {
    return this.enrolment !== undefined;
  }

  /** Switch the relay to its power-on state, start metering and connecting. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.relay.set(this.relayClosed);
    const first = this.energy.read(this.clock.now());
    this.srcImport = first.importMWh;
    this.srcExport = first.exportMWh;
    this.energy.onChange?.(() => this.guard('energy', () => this.update()));
    this.stopReading = every(this.clock, this.cfg.readingPeriodMs, () => this.guard('reading', () => this.takeReading()));
    this.guard('start', () => this.update());
    this.session.start();
  }

  /** Stop timers and say goodbye: a retained offline Status, then DISCONNECT. */
  stop(): void {
    if (!this.started) return;
    // A clean shutdown keeps every counted mWh (a power cut keeps all but the last few Wh).
    this.guard('stop', () => {
      this.update();
      if (this.importMWh !== this.state.importMWh || this.exportMWh !== this.state.exportMWh) this.commit({});
    });
    this.started = false;
    this.stopReading?.();
    this.clock.clearTimeout(this.creditTimer);
    this.clock.clearTimeout(this.persistTimer);
    this.clock.clearTimeout(this.pumpTimer);
    if (this.connection) this.publish(this.topics.status, offlineStatus(this.meterId), true);
    this.session.stop();
    this.connection = undefined;
  }

  /** The platform learned the time (SNTP on a device). */
  setTime(timeMs: number, source: TimeSource = 'sntp'): void {
    this.guard('time', () => this.learnTime(timeMs, source));
  }

  /** The platform's network came back: stop waiting out a backoff delay. */
  networkUp(): void {
    this.session.nudge();
  }

  /** Read the energy source now (a platform without change notifications may call this). */
  poll(): void {
    this.guard('poll', () => this.update());
  }

  snapshot(): MeterSnapshot {
    const now = this.wall.wall();
    return {
      meter: this.meterId,
      publicKey: this.publicKey,
      enrolled: this.enrolled,
      session: this.session.state,
      clock: this.wall.isSet() ? 'set' : 'unset',
      time: now === undefined ? null : now,
      relay: this.relayClosed ? 'closed' : 'open',
      importMWh: this.importMWh,
      exportMWh: this.exportMWh,
      powerW: this.powerW,
      seq: this.state.seq,
      ctr: this.state.ctr,
      creditMWh: now === undefined ? 0 : this.wallet.available(now),
      tokens: this.wallet.size,
      outbox: this.outbox.seqs(),
      outboxDropped: this.outbox.dropped,
      errors: this.counters.snapshot(),
    };
  }

  /** Session diagnostics: attempts, successful connects, the last backoff delay. */
  sessionInfo(): { state: SessionState; attempts: number; connects: number; lastDelayMs: number } {
    const s = this.session;
    return { state: s.state, attempts: s.attempts, connects: s.connects, lastDelayMs: s.lastDelayMs };
  }

  // ── boot ──────────────────────────────────────────────────────────────

  private loadState(): MeterState {
    const raw = this.stateStore.load();
    if (!raw) return { ...EMPTY_STATE };
    try {
      return decodeState(raw);
    } catch (e) {
      // Starting from zero would send registers backwards; refuse to run instead, loudly.
      return fail(C.STORAGE_FAILED, `meter state record unreadable (${messageOf(e)}); the registers cannot be restored`);
    }
  }

  private loadWallet(): Wallet {
    const raw = this.walletStore.load();
    let wallet = new Wallet();
    let atImport = this.state.importMWh;
    if (raw) {
      try {
        const d = Wallet.decode(raw);
        wallet = d.wallet;
        atImport = d.atImportMWh;
      } catch (e) {
        this.count(C.STORAGE_FAILED, `wallet record unreadable, credit lost: ${messageOf(e)}`);
      }
    }
    // Import counted after the wallet was last written but before the registers were: charge it now,
    // so a power cut never hands credit back.
    if (this.state.importMWh > atImport) {
      wallet.consume(this.state.importMWh - atImport, undefined, this.state.lastT);
      this.walletDirty = true;
    }
    if (wallet.prune(this.state.lastT).length) this.walletDirty = true;
    return wallet;
  }

  private loadEnrolment(): void {
    const raw = this.store.get(DOMAIN, ENROLMENT_PREF);
    if (typeof raw !== 'string') return;
    try {
      const cert = signed(EnrolmentBody).parse(parseJson(raw), '');
      this.checkEnrolment(cert);
      this.enrolment = cert.body;
      this.enrolmentText = raw;
    } catch (e) {
      this.count(codeOf(e), `stored enrolment certificate refused, waiting for a new one: ${messageOf(e)}`);
    }
  }

  // ── energy, registers, credit, relay ──────────────────────────────────

  /** Read the source, charge import to credit, persist if due, re-decide the relay. */
  private update(): void {
    if (!this.started) return;
    const baseNow = this.clock.now();
    const sample = this.energy.read(baseNow);
    let dImport = sample.importMWh - this.srcImport;
    let dExport = sample.exportMWh - this.srcExport;
    if (dImport < 0 || dExport < 0) {
      this.count(C.SOURCE_RESET, `energy source went from ${this.srcImport}/${this.srcExport} to ${sample.importMWh}/${sample.exportMWh} mWh; counting from here`);
      dImport = Math.max(0, dImport);
      dExport = Math.max(0, dExport);
    }
    this.srcImport = sample.importMWh;
    this.srcExport = sample.exportMWh;
    this.powerW = Math.max(-MAX_POWER_W, Math.min(MAX_POWER_W, Math.round(sample.powerW)));
    this.importMWh += dImport;
    this.exportMWh += dExport;
    const now = this.wall.wall();
    if (dImport > 0) {
      this.wallet.consume(dImport, now, this.state.lastT);
      this.walletDirty = true;
    }
    if (now !== undefined) {
      const gone = this.wallet.prune(now);
      if (gone.length) {
        this.walletDirty = true;
        for (const e of gone) this.log.log('info', `credit token ${e.nonce} window over (${e.remainingMWh} mWh unused)`);
      }
    }
    try {
      this.persistIfDue();
    } catch (e) {
      // A failing flash must not stop the relay from following the credit.
      this.count(codeOf(e), `registers not persisted: ${messageOf(e)}`);
    }
    this.decideRelay();
    this.planCredit();
  }

  private persistIfDue(): void {
    const unpersistedMWh = (this.importMWh - this.state.importMWh) + (this.exportMWh - this.state.exportMWh);
    if (unpersistedMWh <= 0) return;
    if (unpersistedMWh >= this.cfg.persistEveryWh * 1000 || this.clock.now() - this.persistedAtBase >= this.cfg.persistEveryMs) {
      this.commit({});
      return;
    }
    if (!this.persistTimer) {
      const due = this.persistedAtBase + this.cfg.persistEveryMs - this.clock.now();
      this.persistTimer = this.clock.setTimeout(() => {
        this.persistTimer = undefined;
        this.guard('persist', () => this.update());
      }, Math.max(0, due));
    }
  }

  /**
   * Write the durable record (registers, sequence, login counter, time), then the
   * wallet if it changed — in that order, so the boot-time reconciliation in
   * loadWallet can charge any import the wallet missed.
   */
  private commit(next: Partial<MeterState>, walletRequired = false): void {
    const t = this.wall.wall();
    const st: MeterState = {
      ...this.state,
      importMWh: this.importMWh,
      exportMWh: this.exportMWh,
      lastT: t === undefined ? this.state.lastT : Math.max(t, this.state.lastT),
      ...next,
    };
    this.stateStore.save(encodeState(st));
    this.state = st;
    this.persistedAtBase = this.clock.now();
    this.clock.clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    if (this.walletDirty) {
      try {
        this.walletStore.save(this.wallet.encode(st.importMWh));
        this.walletDirty = false;
      } catch (e) {
        if (walletRequired) throw e;
        this.count(codeOf(e), `wallet not saved (kept for the next write): ${messageOf(e)}`);
      }
    }
  }

  private decideRelay(): void {
    const now = this.wall.wall();
    // A meter enrolled without a relay (a prosumer's export meter, say) only measures: the supply stays on.
    // Otherwise, until the clock is set no window can be judged and the installer's power-on state holds.
    const unswitched = this.enrolment !== undefined && !this.enrolment.relay;
    const close = unswitched ? true : now === undefined ? this.cfg.relayPowerOn === 'closed' : this.wallet.available(now) > 0;
    if (close === this.relayClosed) return;
    this.relay.set(close); // first, so a driver that throws leaves the meter's idea of the relay true
    this.relayClosed = close;
    this.log.log('info', `relay ${close ? 'closed' : 'opened'}${now === undefined ? '' : ` (credit ${this.wallet.available(now)} mWh)`}`);
    if (this.connection) this.publishStatus();
  }

  /** One timer for the next instant the relay decision could change; nothing when nothing is due. */
  private planCredit(): void {
    this.clock.clearTimeout(this.creditTimer);
    this.creditTimer = undefined;
    const now = this.wall.wall();
    if (now === undefined || !this.started) return;
    let at = this.wallet.nextBoundary(now);
    const available = this.wallet.available(now);
    if (this.relayClosed && available > 0) {
      if (this.powerW > 0) {
        // P[W] draws 1 mWh every 3600/P ms.
        const exhausted = now + Math.ceil((available * 3600) / this.powerW);
        if (at === undefined || exhausted < at) at = exhausted;
      }
      // Credit is being drawn: re-plan when the source's power changes by itself.
      const change = this.energy.nextChangeAt?.(this.clock.now());
      if (change !== undefined) {
        const wallChange = now + (change - this.clock.now());
        if (at === undefined || wallChange < at) at = wallChange;
      }
    }
    if (at === undefined) return;
    this.creditTimer = this.clock.setTimeout(() => {
      this.creditTimer = undefined;
      this.guard('credit', () => this.update());
    }, Math.max(1, at - now));
  }

  // ── readings ──────────────────────────────────────────────────────────

  private takeReading(): void {
    this.update();
    const t = this.wall.wall();
    if (t === undefined) return; // no true timestamp, no reading (docs/protocol.md §4)
    const seq = this.state.seq + 1;
    // Durable before it is sent: a reboot must never restore a lower seq or lower registers than the gateway saw.
    this.commit({ seq });
    const body: ReadingBody = {
      type: 'Reading',
      grid: this.cfg.grid,
      meter: this.meterId,
      seq,
      t,
      importMWh: this.importMWh,
      exportMWh: this.exportMWh,
      powerW: this.powerW,
      relay: this.relayClosed ? 'closed' : 'open',
      creditMWh: this.wallet.available(t),
      fw: this.cfg.fw,
    };
    this.outbox.push({ seq, t, payload: readingPayload(body, this.sign) });
    this.pump();
  }

  /** Publish what the outbox has not sent on this connection, a batch per turn. */
  private pump(): void {
    this.clock.clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (!this.connection || !this.enrolled) return;
    for (const e of this.outbox.takeUnsent(RESEND_BATCH)) {
      if (!this.publish(this.topics.reading, e.payload, false)) {
        this.outbox.unsendFrom(e.seq);
        return;
      }
    }
    if (this.outbox.hasUnsent()) {
      this.pumpTimer = this.clock.setTimeout(() => {
        this.pumpTimer = undefined;
        this.guard('pump', () => this.pump());
      }, RESEND_GAP_MS);
    }
  }

  // ── session ───────────────────────────────────────────────────────────

  private prepareConnect(): MqttConnectOptions {
    // Raised and persisted before every attempt: the gateway accepts each counter once (docs/protocol.md §3 (a)).
    const ctr = this.state.ctr + 1;
    this.commit({ ctr });
    return {
      clientId: this.meterId,
      username: this.meterId,
      password: loginPassword(this.cfg.grid, this.meterId, ctr, this.sign, this.enrolled ? undefined : this.publicKey),
      will: { topic: this.topics.status, payload: offlineStatus(this.meterId), retain: true },
      keepaliveMs: this.cfg.keepaliveMs,
    };
  }

  private online(connection: MqttConnection): void {
    this.connection = connection;
    // The ACL of docs/protocol.md §3: a pending meter may only hear its enrolment and the time.
    const subs = this.enrolled
      ? [this.topics.ack, this.topics.time, this.topics.credit, this.topics.enrolment]
      : [this.topics.enrolment, this.topics.time];
    for (const topic of subs) connection.subscribe(topic);
    this.publishStatus();
    if (!this.enrolled) {
      this.publish(this.topics.hello, helloPayload(this.cfg.grid, this.meterId, this.publicKey, this.cfg.fw, this.sign), false);
    }
    this.outbox.rewind();
    this.pump();
  }

  private offline(reason: string): void {
    this.connection = undefined;
    this.clock.clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    this.log.log('info', `offline: ${reason}`);
  }

  private publishStatus(): void {
    this.publish(this.topics.status, onlineStatus(this.meterId, this.relayClosed ? 'closed' : 'open', this.cfg.fw, this.wall.isSet(), this.wall.wall()), true);
  }

  /** Publish, or report the connection broken. Returns false if the message did not go out. */
  private publish(topic: string, payload: string, retain: boolean): boolean {
    const c = this.connection;
    if (!c) return false;
    try {
      c.publish(topic, payload, retain);
      return true;
    } catch (e) {
      this.connection = undefined;
      this.session.fail(`publish failed: ${messageOf(e)}`);
      return false;
    }
  }

  // ── messages from the gateway ─────────────────────────────────────────

  private receive(topic: string, payload: Uint8Array | string): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind !== 'meter' || parsed.grid !== this.cfg.grid || parsed.meter !== this.meterId) {
      fail(C.TOPIC_MISMATCH, `message on ${topic} is not addressed to meter ${this.meterId} on grid ${this.cfg.grid}`);
    }
    switch (parsed.leaf) {
      case 'ack': {
        const ack = decode(payload, AckMessage, MAX_METER_MESSAGE_BYTES);
        if (ack.meter !== this.meterId) fail(C.TOPIC_MISMATCH, `Ack for meter ${ack.meter} arrived on meter ${this.meterId}'s topic`);
        this.outbox.ack(ack.seq);
        return;
      }
      case 'time': {
        const m = decode(payload, TimeMessage, MAX_METER_MESSAGE_BYTES);
        this.learnTime(m.t, 'gateway');
        return;
      }
      case 'credit':
        this.admitCredit(decode(payload, signed(CreditTokenBody), MAX_METER_MESSAGE_BYTES));
        return;
      case 'enrolment':
        // An empty retained message clears the certificate on the broker (a revocation). It is
        // configuration going away, not a command: the meter keeps its pinned authority.
        if (payload.length === 0) return;
        this.acceptEnrolment(decode(payload, signed(EnrolmentBody), MAX_METER_MESSAGE_BYTES));
        return;
      default:
        // reading, status, hello: the meter's own topics; nothing to act on.
        return;
    }
  }

  private learnTime(timeMs: number, source: TimeSource): void {
    this.update();
    const wasSet = this.wall.isSet();
    if (!this.wall.learn(timeMs, source)) return;
    const now = this.wall.now();
    this.log.log('info', `clock ${wasSet ? 'stepped' : 'set'} from ${source}: ${now}`);
    const dropped = this.outbox.dropAfter(now + FUTURE_LIMIT_MS);
    if (dropped) this.log.log('warn', `dropped ${dropped} readings stamped in the future of the corrected clock`);
    this.update();
    if (this.connection) this.publishStatus();
  }

  private admitCredit(token: Signed<CreditTokenBody>): void {
    this.update(); // charge what was used so far to the tokens that paid for it
    const entry = this.wallet.check(token, {
      grid: this.cfg.grid,
      meter: this.meterId,
      authorityKey: this.authorityKey,
      verify: this.verify,
      now: this.wall.wall(),
      notBefore: this.state.lastT,
    });
    this.wallet.add(entry);
    this.walletDirty = true;
    try {
      // Durable before it counts: a nonce accepted and then forgotten in a power cut could be accepted twice.
      this.commit({}, true);
    } catch (e) {
      this.wallet.remove(entry.nonce);
      throw e;
    }
    this.log.log('info', `credit token ${entry.nonce}: ${entry.energyMWh} mWh valid ${entry.validFrom}–${entry.validUntil}`);
    this.update();
  }

  private checkEnrolment(cert: Signed<Enrolment>): void {
    const b = cert.body;
    if (b.grid !== this.cfg.grid) fail(C.WRONG_GRID, `enrolment certificate is for grid ${b.grid}; this meter is on grid ${this.cfg.grid}`);
    if (b.meter !== this.meterId) fail(C.TOPIC_MISMATCH, `enrolment certificate is for meter ${b.meter}; this is meter ${this.meterId}`);
    const trusted = this.cfg.authorityKey ?? this.authorityKey;
    if (trusted && b.authority !== trusted) {
      fail(C.UNKNOWN_SIGNER, `enrolment certificate names authority ${keyIdOf(b.authority)}; this meter trusts only ${keyIdOf(trusted)}`);
    }
    assertSignedBy(cert, b.authority, 'enrolment certificate', this.verify);
  }

  /** Configuration, never a command: it pins the authority key and nothing else changes. */
  private acceptEnrolment(cert: Signed<Enrolment>): void {
    this.checkEnrolment(cert);
    const text = canonicalize(cert);
    if (text === this.enrolmentText) return; // the retained copy, delivered again on every connect
    const b = cert.body;
    if (b.pulsesPerKWh !== this.cfg.pulsesPerKWh) {
      this.log.log('warn', `enrolment says ${b.pulsesPerKWh} pulses/kWh, this meter is configured for ${this.cfg.pulsesPerKWh}; check the installation`);
    }
    this.store.set(DOMAIN, ENROLMENT_PREF, text);
    const first = !this.enrolled;
    this.enrolment = b;
    this.enrolmentText = text;
    this.authorityKey = this.cfg.authorityKey ?? b.authority;
    this.log.log('info', `enrolled for ${b.participant} by authority ${keyIdOf(b.authority)}${b.relay ? '' : ' (no relay: the supply is not switched)'}`);
    this.decideRelay();
    // The gateway grants the meter ACL at CONNECT: log in again as an enrolled meter.
    if (first) this.session.reconnectNow();
  }

  // ── refusals ──────────────────────────────────────────────────────────

  private count(code: string, message: string): void {
    this.counters.add(code);
    this.log.log(code === C.INTERNAL ? 'error' : 'warn', `${code} ${message}`);
  }

  /** Run a callback from a timer, the network or a source: whatever it throws is counted and logged, never propagated. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.count(codeOf(e), `${what}: ${messageOf(e)}`);
    }
  }
}
