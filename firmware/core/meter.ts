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
 * - storage that fails its checks is never silent (docs/protocol.md §4, "Restore"):
 *   no valid state record → E_STATE_LOST on the console and in Status, relay open,
 *   no readings and no flash writes until the gateway's Restore — the meter's own
 *   last stored reading and login token, both checked with its own key — gives the
 *   registers, sequence and login counter back; one state slot unreadable → carry on
 *   from the other, skip one sequence number and login counter, and take the
 *   gateway's copy where it is higher; key gone → E_KEY_LOST and the re-enrolment
 *   command.
 */
import {
  AckMessage, CreditTokenBody, EnrolmentBody, LoginBody, MAX_METER_MESSAGE_BYTES, ReadingBody, RestoreMessage, TimeMessage,
  assertSignedBy, canonicalize, decode, every, fail, keyIdOf, parseJson, parseTopic, signBytes, signed,
  type EnrolmentBody as Enrolment, type MeterFault, type RelayState, type Signed, type VerifyFn,
} from '../../protocol/index.ts';
import { Backoff } from './backoff.ts';
import { MeterClock, type TimeSource } from './clock.ts';
import type { MeterConfig } from './config.ts';
import { Counters, MeterCodes as C, codeOf, messageOf, silentLogger, type Logger } from './errors.ts';
import { DOMAIN, loadOrCreateIdentity } from './identity.ts';
import { helloPayload, loginPassword, meterTopics, offlineStatus, onlineStatus, readingBody, readingPayload, restorePassword } from './messages.ts';
import { Outbox } from './outbox.ts';
import { OutboxRing } from './outboxStore.ts';
import type {
  Clock, EnergySource, EntropySource, MqttConnectOptions, MqttConnection, MqttTransport, PreferenceStore, RelayOutput, SignFn, SignerFactory, TimerHandle,
} from './platform.ts';
import { EMPTY_STATE, decodeState, encodeState, type MeterState, type ReadingRecord } from './registers.ts';
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
/**
 * How far above the last login counter the gateway vouches for a restored meter
 * starts: several authorities of one grid each accept logins (design: growing past
 * one gateway), and the one answering may not have heard of the newest.
 */
export const CTR_RESTORE_MARGIN = 1000;
/**
 * Flash-wear budget (docs/installing-a-meter.md, "Storage and flash wear"): an
 * energy-triggered write of the state record comes at least this long after the
 * previous write, so a heavy load cannot write more than twice a reading period.
 */
export const MIN_PERSIST_GAP_MS = 30_000;
/**
 * The wallet is written with the state record at most this often while only its
 * balances change (a token admitted or gone is written at once): import it missed
 * is charged from the registers at the next boot (loadWallet), so no credit comes back.
 */
export const WALLET_EVERY_MS = 15 * 60_000;

/**
 * Why the meter is restoring: `lost` — no valid state record (registers unknown:
 * relay open, no readings until restored); `verify` — one slot unreadable, the
 * other used, and the gateway's copy taken where it is higher.
 */
export type RestoreMode = 'lost' | 'verify';

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
  /** Highest sequence the gateway acknowledged. */
  ackSeq: number;
  /** Set while the meter waits for the gateway's Restore. */
  restoring: RestoreMode | null;
  /** What the meter's Status reports as its fault, if anything. */
  fault: MeterFault | null;
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
  private readonly ring: OutboxRing;
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
  private restoring: RestoreMode | undefined;
  /** While restoring: the registers, sequence and time the flash still vouches for (counting since boot goes on top). */
  private floor: { importMWh: number; exportMWh: number; seq: number; lastT: number } = { importMWh: 0, exportMWh: 0, seq: 0, lastT: 0 };
  /** Outbox ring entries read at boot while restoring, applied once the gateway has answered. */
  private ringAtBoot: ReadingRecord[] = [];
  private walletAtImport = 0;
  private fault: MeterFault | undefined;
  private wallet: Wallet;
  private walletDirty = false;
  /** A token was added or dropped: the wallet is written with the next state record, whatever WALLET_EVERY_MS says. */
  private walletUrgent = false;
  private walletSavedAtBase = -Infinity;
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

    this.stateStore = new SlotStore(deps.storage, DOMAIN, 'state');
    this.walletStore = new SlotStore(deps.storage, DOMAIN, 'wal');
    this.ring = new OutboxRing(deps.storage, DOMAIN, this.cfg.outboxMax);
    const identity = loadOrCreateIdentity(deps.storage, deps.entropy, () => this.ranBefore());
    this.keyCreated = identity.created;
    this.meterId = identity.key.keyId;
    this.publicKey = identity.key.publicKey;
    const secretKey = identity.key.secretKey;
    this.sign = deps.signer ? deps.signer({ secretKey, publicKey: this.publicKey }) : (m) => signBytes(m, secretKey);
    this.verify = deps.verifier;
    this.topics = meterTopics(this.cfg.grid, this.meterId);

    const oldMeter = identity.lost ? this.forgetOldIdentity() : undefined;
    this.state = this.loadState(identity.created);
    // Readings signed by the lost key can never be delivered: nothing of theirs is pending.
    if (identity.lost) this.state = { ...this.state, last: undefined, ackSeq: this.state.seq };
    this.importMWh = this.state.importMWh;
    this.exportMWh = this.state.exportMWh;
    this.persistedAtBase = deps.clock.now();
    this.wallet = this.loadWallet();
    this.loadEnrolment();
    this.authorityKey = this.cfg.authorityKey ?? this.enrolment?.authority;
    this.relayClosed = this.restoring === 'lost' ? false : this.cfg.relayPowerOn === 'closed';

    this.outbox = new Outbox(this.cfg.outboxMax);
    if (this.restoring !== 'lost') this.refillOutbox();
    this.session = new Session(deps.transport, deps.clock, new Backoff(this.cfg.backoff, deps.entropy), this.cfg.connectTimeoutMs, {
      prepare: () => this.prepareConnect(),
      online: (c) => this.online(c),
      message: (topic, payload) => this.guard('message', () => this.receive(topic, payload)),
      offline: (reason) => this.offline(reason),
    }, this.log);

    this.log.log('info', `meter ${this.meterId} public key ${this.publicKey}${identity.created ? ' (new key made on this device)' : ''}`);
    if (identity.lost) {
      this.fault = 'E_KEY_LOST';
      this.count(C.KEY_LOST, `the meter's key is gone (its flash entry is missing or damaged); ${oldMeter ? `meter ${oldMeter.meter} (${oldMeter.participant})` : 'the old meter'} can never sign again. `
        + `This is now meter ${this.meterId}. Re-enrol it: helios meter enroll --meter ${this.meterId} --public-key ${this.publicKey} --participant ${oldMeter?.participant ?? '<email>'} --installer <name> --location <text>`
        + `${oldMeter ? `; retire the old one: helios meter revoke ${oldMeter.meter} --reason "key lost"` : ''}. The registers carry on (import ${this.importMWh} mWh, export ${this.exportMWh} mWh).`);
    } else if (!this.enrolled) {
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
      if (this.restoring === 'lost') return;
      // Into both slots: after a clean shutdown, damage to either one loses nothing.
      this.commit({}, false);
      this.walletUrgent = this.walletDirty;
      this.commit({});
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
      ackSeq: this.state.ackSeq,
      restoring: this.restoring ?? null,
      fault: this.fault ?? null,
      errors: this.counters.snapshot(),
    };
  }

  /** Session diagnostics: attempts, successful connects, the last backoff delay. */
  sessionInfo(): { state: SessionState; attempts: number; connects: number; lastDelayMs: number } {
    const s = this.session;
    return { state: s.state, attempts: s.attempts, connects: s.connects, lastDelayMs: s.lastDelayMs };
  }

  // ── boot ──────────────────────────────────────────────────────────────

  /** Anything besides the key that only a meter that has run leaves in flash. */
  private ranBefore(): boolean {
    const has = (key: string) => this.store.get(DOMAIN, key) !== undefined;
    return has('state0') || has('state1') || has(ENROLMENT_PREF) || has('wal0') || has('wal1') || this.ring.any();
  }

  /**
   * The key is gone: the readings in the outbox ring were signed by it and can never
   * be delivered, and the enrolment certificate names the old meter. Both go; the
   * registers and the wallet stay (they are the household's energy and credit).
   */
  private forgetOldIdentity(): { meter: string; participant: string } | undefined {
    let old: { meter: string; participant: string } | undefined;
    const raw = this.store.get(DOMAIN, ENROLMENT_PREF);
    if (typeof raw === 'string') {
      try {
        const b = signed(EnrolmentBody).parse(parseJson(raw), '').body;
        old = { meter: b.meter, participant: b.participant };
      } catch {
        // unreadable too: the installer finds the old meter with `helios meter list`
      }
      this.store.delete(DOMAIN, ENROLMENT_PREF);
    }
    this.ring.clear();
    return old;
  }

  private loadState(keyCreated: boolean): MeterState {
    const slots = this.stateStore.inspect();
    let st: MeterState | undefined;
    if (slots.payload) {
      try {
        st = decodeState(slots.payload);
      } catch (e) {
        this.count(C.STORAGE_CORRUPT, `state record generation ${slots.generation} passes its CRC but cannot be read (${messageOf(e)})`);
      }
    }
    // After its second write a meter always has both slots; one gone (NVS drops an entry that fails its own
    // CRC) is as doubtful as one damaged.
    const gone = slots.present === 1 && slots.generation >= 2 ? [`state${(slots.generation + 1) % 2} (missing)`] : [];
    const doubtful = [...slots.corrupt, ...gone];
    if (st && doubtful.length === 0) return st;
    if (st) {
      // The other slot was being written when power failed, or the flash is damaged there. If it was the
      // newer record, a reading or a login may have used its numbers: skip one of each, and let the
      // gateway's copy (Restore) raise the registers if it saw more than this record holds.
      this.count(C.STORAGE_CORRUPT, `state slot ${doubtful.join(', ')} unreadable (a write cut short, or damaged flash); carrying on from generation ${slots.generation} `
        + `(seq ${st.seq}, import ${st.importMWh} mWh), skipping one sequence number and login counter, and checking the gateway's copy`);
      this.restoring = 'verify';
      this.floor = { importMWh: st.importMWh, exportMWh: st.exportMWh, seq: st.seq, lastT: st.lastT };
      return { ...st, seq: st.seq + 1, ctr: st.ctr + 1 };
    }
    // Nothing at all: a new meter (or one whose key is gone too: E_KEY_LOST), or a first boot cut short before
    // its first state record — before which it never logged in, so nothing of it can have been used.
    if (slots.present === 0 && (keyCreated || !this.ranBefore())) return { ...EMPTY_STATE };
    // Starting from zero would send registers backwards and reuse sequence numbers and login counters.
    const ring = this.ring.load();
    const top = ring.records[ring.records.length - 1];
    this.ringAtBoot = top ? ring.records.filter((r) => r.seq > top.seq - this.cfg.outboxMax) : [];
    if (top) this.floor = { importMWh: top.importMWh, exportMWh: top.exportMWh, seq: top.seq, lastT: top.t };
    this.restoring = 'lost';
    this.fault = 'E_STATE_LOST';
    this.count(C.STATE_LOST, `no valid state record (${slots.present ? `${slots.present} slot(s) damaged` : 'both slots missing'}): the registers, sequence number and login counter are unknown. `
      + `The relay stays open and no reading is made until the gateway restores them from this meter's last acknowledged reading`
      + `${top ? ` (the outbox still vouches for seq ${top.seq}, import ${top.importMWh} mWh)` : ''}; if it never does, check the gateway: helios meter show ${this.meterId}`);
    return { ...EMPTY_STATE, lastT: this.floor.lastT };
  }

  /** The unacknowledged readings the flash holds (the state record's newest, the ring's older ones), signed again, into the RAM outbox. */
  private refillOutbox(): void {
    const st = this.state;
    const byseq = new Map<number, ReadingRecord>();
    const low = Math.max(st.ackSeq, (st.last?.seq ?? st.seq) - this.cfg.outboxMax);
    let corrupt: string[] = [];
    if (st.last && st.last.seq > st.ackSeq) {
      const ring = this.ring.load();
      corrupt = ring.corrupt;
      for (const r of ring.records) if (r.seq > low && r.seq < st.last.seq) byseq.set(r.seq, r);
      byseq.set(st.last.seq, st.last);
    }
    if (corrupt.length) this.count(C.STORAGE_CORRUPT, `outbox entr${corrupt.length === 1 ? 'y' : 'ies'} ${corrupt.join(', ')} unreadable: those readings are lost (their energy is in the registers)`);
    for (const r of [...byseq.values()].sort((a, b) => a.seq - b.seq)) this.enqueue(r, false);
  }

  /** Sign a reading record and append it to the RAM outbox. */
  private enqueue(r: ReadingRecord, publishNow: boolean): void {
    if (this.outbox.has(r.seq)) return;
    const last = this.outbox.seqs();
    if (last.length && last[last.length - 1] > r.seq) return; // older than what is queued: already superseded
    this.outbox.push({ seq: r.seq, t: r.t, payload: readingPayload(readingBody(this.cfg.grid, this.meterId, r), this.sign) });
    if (publishNow) this.pump();
  }

  private loadWallet(): Wallet {
    const slots = this.walletStore.inspect();
    const raw = slots.payload;
    if (slots.corrupt.length) {
      this.count(C.STORAGE_CORRUPT, `wallet slot ${slots.corrupt.join(', ')} unreadable; ${raw ? `carrying on from the other (generation ${slots.generation}): import since is charged from the registers` : 'no credit token survives; the gateway sends the still-valid ones again on connecting, and they count afresh'}`);
    }
    let wallet = new Wallet();
    let atImport = this.state.importMWh;
    if (raw) {
      try {
        const d = Wallet.decode(raw);
        wallet = d.wallet;
        atImport = d.atImportMWh;
      } catch (e) {
        this.count(C.STORAGE_CORRUPT, `wallet record unreadable, credit lost: ${messageOf(e)}`);
      }
    }
    this.walletAtImport = atImport;
    if (this.restoring === 'lost') return wallet; // reconciled once the registers are restored
    // Import counted after the wallet was last written but before the registers were: charge it now,
    // so a power cut never hands credit back.
    if (this.state.importMWh > atImport) {
      wallet.consume(this.state.importMWh - atImport, undefined, this.state.lastT);
      this.walletDirty = true;
    }
    if (wallet.prune(this.state.lastT).length) this.walletDirty = this.walletUrgent = true;
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
      this.count(C.STORAGE_CORRUPT, `stored enrolment certificate unreadable (${codeOf(e)} ${messageOf(e)}); logging in with the public key to receive it again`);
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
    if (this.restoring === 'lost') return; // nothing worth writing until the registers are known
    const unpersistedMWh = (this.importMWh - this.state.importMWh) + (this.exportMWh - this.state.exportMWh);
    if (unpersistedMWh <= 0) return;
    const since = this.clock.now() - this.persistedAtBase;
    const energyDue = unpersistedMWh >= this.cfg.persistEveryWh * 1000;
    if ((energyDue && since >= MIN_PERSIST_GAP_MS) || since >= this.cfg.persistEveryMs) {
      this.commit({});
      return;
    }
    if (!this.persistTimer) {
      const due = this.persistedAtBase + (energyDue ? MIN_PERSIST_GAP_MS : this.cfg.persistEveryMs) - this.clock.now();
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
    // A record written now would make zero registers look valid to the next boot.
    if (this.restoring === 'lost') fail(C.STATE_LOST, 'the state record is not written until the gateway has restored it');
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
    if (this.walletDirty && (walletRequired || this.walletUrgent || this.clock.now() - this.walletSavedAtBase >= WALLET_EVERY_MS)) {
      try {
        this.walletStore.save(this.wallet.encode(st.importMWh));
        this.walletDirty = this.walletUrgent = false;
        this.walletSavedAtBase = this.clock.now();
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
    // Restoring: the wallet's charges cannot be squared with unknown registers, so the safe state holds
    // (a meter enrolled without a relay switches nothing, and keeps the supply on).
    const close = unswitched ? true : this.restoring === 'lost' ? false
      : now === undefined ? this.cfg.relayPowerOn === 'closed' : this.wallet.available(now) > 0;
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
    if (this.restoring === 'lost') return; // registers unknown: a reading now would be wrong
    // One slot damaged: the lost record may have numbered a reading the gateway stored with higher registers;
    // a reading now could fall below it and be refused (E_REGISTER_DECREASED). Count on, read once checked.
    if (this.restoring === 'verify') return;
    const prev = this.state.last;
    if (prev && prev.seq > this.state.ackSeq && this.outbox.has(prev.seq)) {
      // Still unacknowledged as the state record moves on: keep it durable in the ring.
      try {
        this.ring.save(prev);
      } catch (e) {
        this.count(codeOf(e), `reading ${prev.seq} not saved to the outbox in flash (kept in RAM): ${messageOf(e)}`);
      }
    }
    const seq = this.state.seq + 1;
    const last: ReadingRecord = {
      seq, t, importMWh: this.importMWh, exportMWh: this.exportMWh, powerW: this.powerW,
      relay: this.relayClosed ? 'closed' : 'open', creditMWh: this.wallet.available(t), fw: this.cfg.fw,
    };
    // Durable before it is sent: a reboot must never restore a lower seq or lower registers than the gateway saw.
    this.commit({ seq, last });
    this.enqueue(last, true);
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
    let password: string;
    if (this.restoring === 'lost') {
      // No counter is known to be unused: ask only for the Restore (docs/protocol.md §4).
      password = restorePassword(this.cfg.grid, this.meterId, this.sign, this.enrolled ? undefined : this.publicKey);
    } else {
      // Raised and persisted before every attempt: the gateway accepts each counter once (docs/protocol.md §3 (a)).
      const ctr = this.state.ctr + 1;
      this.commit({ ctr });
      password = loginPassword(this.cfg.grid, this.meterId, ctr, this.sign, this.enrolled ? undefined : this.publicKey);
    }
    return {
      clientId: this.meterId,
      username: this.meterId,
      password,
      will: { topic: this.topics.status, payload: offlineStatus(this.meterId), retain: true },
      keepaliveMs: this.cfg.keepaliveMs,
    };
  }

  private online(connection: MqttConnection): void {
    this.connection = connection;
    // The ACL of docs/protocol.md §3: a pending meter may only hear its enrolment and the time.
    // A restoring meter may only hear its Restore and the time.
    const subs = this.restoring === 'lost' ? [this.topics.restore, this.topics.time]
      : this.enrolled ? [this.topics.ack, this.topics.time, this.topics.credit, this.topics.enrolment]
        : [this.topics.enrolment, this.topics.time];
    if (this.restoring === 'verify' && this.enrolled) subs.push(this.topics.restore);
    for (const topic of subs) connection.subscribe(topic);
    this.publishStatus();
    if (this.restoring === 'lost') return;
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
    this.publish(this.topics.status, onlineStatus(this.meterId, this.relayClosed ? 'closed' : 'open', this.cfg.fw, this.wall.isSet(), this.wall.wall(), this.fault), true);
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
        // Written with the next state record, not now: an Ack costs no flash write.
        if (ack.seq > this.state.ackSeq && ack.seq <= this.state.seq) this.state = { ...this.state, ackSeq: ack.seq };
        return;
      }
      case 'restore':
        if (this.restoring) this.restore(decode(payload, RestoreMessage, MAX_METER_MESSAGE_BYTES));
        return;
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
    // The retained copy comes again on every connect, and a restarted gateway signs the same body anew (its
    // signatures are not deterministic): only a different body is worth a flash write (docs/protocol.md §4).
    if (this.enrolment && canonicalize(cert.body) === canonicalize(this.enrolment)) return;
    const text = canonicalize(cert);
    const b = cert.body;
    if (b.pulsesPerKWh !== this.cfg.pulsesPerKWh) {
      this.log.log('warn', `enrolment says ${b.pulsesPerKWh} pulses/kWh, this meter is configured for ${this.cfg.pulsesPerKWh}; check the installation`);
    }
    this.store.set(DOMAIN, ENROLMENT_PREF, text);
    const first = !this.enrolled;
    this.enrolment = b;
    this.enrolmentText = text;
    this.authorityKey = this.cfg.authorityKey ?? b.authority;
    if (this.fault === 'E_KEY_LOST') this.fault = undefined; // enrolled again under the new key
    this.log.log('info', `enrolled for ${b.participant} by authority ${keyIdOf(b.authority)}${b.relay ? '' : ' (no relay: the supply is not switched)'}`);
    this.decideRelay();
    // The gateway grants the meter ACL at CONNECT: log in again as an enrolled meter.
    if (first) this.session.reconnectNow();
  }

  // ── restore from the gateway (docs/protocol.md §4, "Restore") ─────────

  /** A signed text from the gateway that must be this meter's own: parsed and checked with its own key. */
  private own<T extends { grid: string }>(text: string, schema: Parameters<typeof signed<T>>[0], what: string): T {
    let env: Signed<T>;
    try {
      env = signed(schema).parse(parseJson(text), what);
    } catch (e) {
      return fail(C.RESTORE_REFUSED, `the Restore's ${what} is not a valid signed ${what}: ${messageOf(e)}`);
    }
    if (env.body.grid !== this.cfg.grid) fail(C.RESTORE_REFUSED, `the Restore's ${what} is for grid ${env.body.grid}`);
    try {
      assertSignedBy(env, this.publicKey, what);
    } catch {
      fail(C.RESTORE_REFUSED, `the Restore's ${what} is not signed by this meter's key; it cannot be this meter's own`);
    }
    return env.body;
  }

  private restore(m: RestoreMessage): void {
    if (m.meter !== this.meterId) fail(C.RESTORE_REFUSED, `Restore for meter ${m.meter} arrived at meter ${this.meterId}`);
    const reading = m.reading === undefined ? undefined : this.own(m.reading, ReadingBody, 'reading');
    if (reading && reading.meter !== this.meterId) fail(C.RESTORE_REFUSED, `the Restore's reading is meter ${reading.meter}'s`);
    const login = m.login === undefined ? undefined : this.own(m.login, LoginBody, 'login');
    if (login && (login.id !== this.meterId || login.ctr === undefined)) fail(C.RESTORE_REFUSED, 'the Restore\'s login token is not a counter login of this meter');
    this.update(); // count up to now on the old footing
    const mode = this.restoring!;
    const f = this.floor;
    const ringTop = this.ringAtBoot[this.ringAtBoot.length - 1];
    // Registers: the highest any surviving copy vouches for, plus everything counted since this boot.
    const baseImport = Math.max(f.importMWh, reading?.importMWh ?? 0, ringTop?.importMWh ?? 0);
    const baseExport = Math.max(f.exportMWh, reading?.exportMWh ?? 0, ringTop?.exportMWh ?? 0);
    // Counted since boot: from the slot's registers (verify), from zero (lost — even where the outbox ring
    // vouched for more, the floor, which is not what the counting started from).
    const from = mode === 'lost' ? { importMWh: 0, exportMWh: 0 } : f;
    const importMWh = baseImport + (this.importMWh - from.importMWh);
    const exportMWh = baseExport + (this.exportMWh - from.exportMWh);
    const ackSeq = Math.max(this.state.ackSeq, reading?.seq ?? 0);
    // The lost record may have numbered one more reading than any copy shows: skip one.
    const seq = Math.max(this.state.seq, (reading?.seq ?? 0) + (mode === 'lost' ? 1 : 0), (ringTop?.seq ?? 0) + (mode === 'lost' ? 1 : 0));
    const ctr = mode === 'lost' ? (login?.ctr ?? 0) + CTR_RESTORE_MARGIN : Math.max(this.state.ctr, login?.ctr ?? 0);
    const lastT = Math.max(this.state.lastT, reading?.t ?? 0, ringTop?.t ?? 0);
    const pending = this.ringAtBoot.filter((r) => r.seq > ackSeq);
    this.importMWh = importMWh;
    this.exportMWh = exportMWh;
    this.restoring = undefined;
    if (this.fault === 'E_STATE_LOST') this.fault = undefined;
    try {
      this.commit({ seq, ctr, lastT, ackSeq, last: pending[pending.length - 1] ?? this.state.last });
    } catch (e) {
      this.restoring = mode;
      throw e;
    }
    this.ringAtBoot = [];
    this.outbox.ack(ackSeq);
    for (const r of pending) this.enqueue(r, false);
    if (mode === 'lost') {
      // Import the wallet never saw charged now, as at an ordinary boot.
      if (baseImport > this.walletAtImport) {
        this.wallet.consume(baseImport - this.walletAtImport, undefined, lastT);
        this.walletDirty = true;
      }
    }
    this.log.log(mode === 'lost' ? 'warn' : 'info', `restored from the gateway's copy: seq ${seq}, import ${importMWh} mWh, export ${exportMWh} mWh, login counter ${ctr}`
      + `${reading ? ` (its last stored reading: seq ${reading.seq})` : ' (it held no reading of this meter)'}${pending.length ? `, ${pending.length} reading(s) from the outbox to send` : ''}`);
    this.update();
    // The restore session may do nothing else: log in again with the new counter.
    if (mode === 'lost') this.session.reconnectNow();
    else if (this.connection) this.publishStatus();
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
