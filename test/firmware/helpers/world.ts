/**
 * A meter in a small deterministic world: a ManualClock, fake flash, a fake
 * broker, a simulated household load, and a test double playing the gateway's
 * part of docs/protocol.md (verify and store readings, acknowledge, send Time,
 * enrol on Hello, issue credit tokens signed by a test authority).
 * Pure TypeScript: the same worlds run on Node and inside XS.
 */
import {
  ManualClock, canonicalize, generateKeyPair, parseJson, signBody, signed, topics, verifyBody,
  ReadingBody, HelloBody, StatusMessage,
  type CreditTokenBody, type EnrolmentBody, type KeyPair, type Signed,
} from '../../../protocol/index.ts';
import { Meter, parseMeterConfig, type MeterConfigInput } from '../../../firmware/core/index.ts';
import { ProfileEnergySource, type PowerProfile } from '../../../firmware/platform/node/energy.ts';
import { FakeBroker, FakeRelay, FakeStorage, FakeTransport, seededEntropy, type Delivered } from './fake-platform.ts';

/** 2026-03-21T13:00Z, the paper's delivery hour. */
export const T0 = 1774098000000;
export const GRID = 'testgrid';
/** The test authority (deterministic key). */
export const AUTHORITY: KeyPair = generateKeyPair(seededEntropy(4242));
/** Another key that is not the meter's authority. */
export const STRANGER: KeyPair = generateKeyPair(seededEntropy(777));
export const PARTICIPANT = 'asad@example.org';

export interface WorldOptions {
  clockStart?: number;
  clockSet?: boolean;
  power?: number | PowerProfile;
  stepMs?: number;
  config?: Omit<MeterConfigInput, 'grid'>;
  seed?: number;
  /** Let the gateway enrol the meter when it says Hello (default true). */
  enrolOnHello?: boolean;
}

export class Gateway {
  /** Reading seqs in arrival order, duplicates included. */
  received: number[] = [];
  stored: number[] = [];
  /** What each stored reading said, by seq, and its signed text. */
  readings = new Map<number, ReadingBody>();
  envelopes = new Map<number, string>();
  /** The last counter login accepted (a meter's Restore hands it back), and how many restore logins came. */
  lastLogin: string | undefined;
  restoreLogins = 0;
  restores = 0;
  hellos = 0;
  acks = true;
  sendTime = true;
  enrolOnHello = true;
  badSignatures = 0;
  timeMs: (() => number) | undefined;
  meterKey: string | undefined;

  constructor(readonly broker: FakeBroker, readonly clock: ManualClock) {
    broker.onPublish = (m) => this.handle(m);
    broker.onConnect = (o) => {
      const login = parseJson(o.password) as { body: { ctr?: number; restore?: boolean } };
      if (login.body.ctr !== undefined) this.lastLogin = o.password;
      if (login.body.restore) this.restoreLogins++;
    };
    broker.onSubscribe = (client, topic) => {
      if (topic.endsWith('/restore')) this.restore(client);
    };
  }

  /** docs/protocol.md §4, "Restore": the meter's newest stored reading and last counter login, as it signed them. */
  restore(meter: string): void {
    const m: Record<string, unknown> = { type: 'Restore', meter, t: this.clock.now() };
    const h = this.highest();
    if (h > 0) m.reading = this.envelopes.get(h);
    if (this.lastLogin !== undefined) m.login = this.lastLogin;
    this.restores++;
    this.broker.publish(topics.meter(GRID, meter, 'restore'), canonicalize(m));
  }

  private handle(m: Delivered): void {
    const leaf = m.topic.slice(m.topic.lastIndexOf('/') + 1);
    const meter = m.topic.split('/')[3];
    if (leaf === 'hello') {
      const hello = signed(HelloBody).parse(parseJson(m.payload), '');
      if (!verifyBody(hello, hello.body.publicKey)) {
        this.badSignatures++;
        return;
      }
      this.hellos++;
      this.meterKey = hello.body.publicKey;
      if (this.enrolOnHello) this.enrol(meter);
    } else if (leaf === 'reading') {
      const r = signed(ReadingBody).parse(parseJson(m.payload), '');
      if (!this.meterKey || !verifyBody(r, this.meterKey)) {
        this.badSignatures++;
        return;
      }
      this.received.push(r.body.seq);
      if (!this.readings.has(r.body.seq)) {
        this.readings.set(r.body.seq, r.body);
        this.envelopes.set(r.body.seq, m.payload);
        this.stored.push(r.body.seq);
      }
      if (this.acks) this.ack(meter);
    } else if (leaf === 'status' && m.from !== 'broker') {
      const s = StatusMessage.parse(parseJson(m.payload), '');
      if (s.state === 'online' && this.sendTime) this.time(meter, this.timeMs ? this.timeMs() : this.clock.now());
    }
  }

  highest(): number {
    let h = 0;
    for (const s of this.stored) if (s > h) h = s;
    return h;
  }

  ack(meter: string): void {
    this.broker.publish(topics.meter(GRID, meter, 'ack'), canonicalize({ type: 'Ack', meter, seq: this.highest(), t: this.clock.now() }));
  }

  time(meter: string, t: number): void {
    this.broker.publish(topics.meter(GRID, meter, 'time'), canonicalize({ type: 'Time', t }));
  }

  /** Whether certificates say the meter switches a relay (false: a measuring-only meter). */
  relayInstalled = true;

  enrolmentFor(meter: string, signer: KeyPair = AUTHORITY, authority: string = signer.publicKey): string {
    const body: EnrolmentBody = {
      type: 'Enrolment', grid: GRID, meter, participant: PARTICIPANT, authority, pulsesPerKWh: 1000, relay: this.relayInstalled, t: this.clock.now(),
    };
    return canonicalize(signBody(body, signer.secretKey));
  }

  /** Publish the enrolment certificate, retained, as the gateway does. */
  enrol(meter: string, signer: KeyPair = AUTHORITY): void {
    this.broker.publish(topics.meter(GRID, meter, 'enrolment'), this.enrolmentFor(meter, signer), true);
  }

  token(meter: string, fields: Partial<CreditTokenBody> & { energyMWh: number; validFrom: number; validUntil: number; nonce: string }, signer: KeyPair = AUTHORITY): string {
    const body: CreditTokenBody = {
      type: 'CreditToken', grid: GRID, meter, issuer: keyIdOfAuthority(signer), ...fields,
    };
    const s: Signed<CreditTokenBody> = signBody(body, signer.secretKey);
    return canonicalize(s);
  }

  sendCredit(meter: string, payload: string): void {
    this.broker.publish(topics.meter(GRID, meter, 'credit'), payload);
  }
}

function keyIdOfAuthority(k: KeyPair): string {
  return k.keyId;
}

/** A nonce from a small number, 32 hex characters. */
export function nonce(n: number): string {
  const h = n.toString(16);
  return '0'.repeat(32 - h.length) + h;
}

export class World {
  readonly clock: ManualClock;
  readonly broker: FakeBroker;
  readonly gateway: Gateway;
  storage: FakeStorage;
  relay: FakeRelay;
  energy: ProfileEnergySource;
  meter: Meter;
  /** Relay switchings with the wall time they happened at. */
  relayLog: Array<{ t: number; closed: boolean }> = [];
  logs: string[] = [];
  private readonly options: WorldOptions;

  constructor(options: WorldOptions = {}, shared?: { clock: ManualClock; broker: FakeBroker; gateway: Gateway; storage: FakeStorage }) {
    this.options = options;
    this.clock = shared?.clock ?? new ManualClock(options.clockStart ?? T0);
    this.broker = shared?.broker ?? new FakeBroker(this.clock);
    this.gateway = shared?.gateway ?? new Gateway(this.broker, this.clock);
    if (!shared) this.gateway.enrolOnHello = options.enrolOnHello ?? true;
    this.storage = shared?.storage ?? new FakeStorage();
    this.relay = new FakeRelay();
    this.energy = new ProfileEnergySource({ power: options.power ?? 1000, stepMs: options.stepMs, startMs: this.clock.now() });
    this.relay.listener = (closed) => {
      this.energy.setSupplied(closed, this.clock.now());
      this.relayLog.push({ t: this.clock.now(), closed });
    };
    const config = parseMeterConfig({ grid: GRID, ...(options.config ?? {}) });
    this.meter = new Meter({
      config,
      storage: this.storage,
      clock: this.clock,
      clockSet: options.clockSet ?? true,
      entropy: seededEntropy(options.seed ?? 1),
      transport: new FakeTransport(this.broker),
      relay: this.relay,
      energy: this.energy,
      log: { log: (level, message) => { this.logs.push(`${level} ${message}`); } },
    });
  }

  start(): this {
    this.meter.start();
    return this;
  }

  /** Send the meter a large credit token valid for a day, so the household is supplied. */
  fund(energyMWh = 1_000_000_000, n = 0xfeed): void {
    const id = this.meter.meterId;
    const t = this.clock.now();
    this.gateway.sendCredit(id, this.gateway.token(id, { energyMWh, validFrom: t - 60_000, validUntil: t + 86_400_000, nonce: nonce(n) }));
  }

  /** Advance the clock in one-second steps (so every event lands in order), or stop early if the flash lost power. */
  run(ms: number, stepMs = 1000): void {
    let left = ms;
    while (left > 0 && !this.storage.dead) {
      const d = Math.min(stepMs, left);
      this.clock.advance(d);
      left -= d;
    }
  }

  /** Power off and on again: a new meter on the same flash, clock, broker and gateway. */
  reboot(options: WorldOptions = {}): World {
    // A power cut, not a shutdown: the flash takes no more writes, the connection just dies
    // (the broker publishes the will), and every timer stops.
    this.storage.dead = true;
    this.broker.dropClient(this.meter.meterId);
    this.meter.stop();
    return new World({ ...this.options, ...options }, {
      clock: this.clock, broker: this.broker, gateway: this.gateway, storage: this.storage.reboot(),
    });
  }

  /** Readings the broker saw from this meter, decoded. */
  publishedReadings(): ReadingBody[] {
    return this.broker.messages('/reading').map((m) => signed(ReadingBody).parse(parseJson(m.payload), '').body);
  }

  statuses(): Array<Record<string, unknown>> {
    return this.broker.messages('/status').map((m) => parseJson(m.payload) as Record<string, unknown>);
  }
}
