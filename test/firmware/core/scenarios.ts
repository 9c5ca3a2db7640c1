/**
 * Meter scenarios as functions that return plain JSON, so the same code runs on
 * Node (meter.test.ts asserts on the results) and inside the real XS engine
 * (xs.test.ts runs them there and compares the JSON byte for byte).
 * Deterministic: a ManualClock, seeded entropy, RFC 6979 signatures.
 */
import { ManualClock, canonicalize, parseJson, signBody, topics, utf8Encode } from '../../../protocol/index.ts';
import {
  Backoff, Outbox, OutboxRing, PulseCounter, Wallet, backoffDelay, crc32, decodeState, encodeState,
} from '../../../firmware/core/index.ts';
import { GRID, AUTHORITY, STRANGER, T0, Gateway, World, nonce } from '../helpers/world.ts';
import { FakeBroker, FakeStorage, seededEntropy } from '../helpers/fake-platform.ts';

const MIN = 60_000;

// ── registers across power cuts at every storage step ────────────────────

interface CutRun {
  world: World;
  creditPayload: string;
}

/**
 * The script every power-cut run follows until the flash loses power: boot on a
 * fresh flash, get enrolled, get clock from the gateway, import at 3 kW, receive
 * a credit token, take readings, lose the broker and reconnect.
 */
function cutScript(storage: FakeStorage): CutRun {
  const clock = new ManualClock(T0);
  const broker = new FakeBroker(clock);
  const gateway = new Gateway(broker, clock);
  let creditPayload = '';
  let w: World;
  try {
    w = new World({ power: 3000, stepMs: 20_000, config: { persistEveryWh: 10 } }, { clock, broker, gateway, storage });
  } catch {
    // The cut hit while the first boot stored its key: nothing was ever sent. Boot again without the cut.
    w = new World({ power: 3000, stepMs: 20_000, config: { persistEveryWh: 10 } }, { clock, broker, gateway, storage: new FakeStorage() });
    w.storage.dead = true;
    return { world: w, creditPayload };
  }
  try {
    w.start();
    w.run(30_000);
    if (!storage.dead) {
      creditPayload = w.gateway.token(w.meter.meterId, { energyMWh: 100_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(1) });
      w.gateway.sendCredit(w.meter.meterId, creditPayload);
    }
    w.run(2 * MIN);
    if (!storage.dead) w.broker.dropClient(w.meter.meterId);
    w.run(3 * MIN);
    // The gateway away for three readings: they move into the outbox ring in flash.
    if (!storage.dead) w.broker.down();
    w.run(3 * MIN);
    w.broker.restart();
    w.run(30_000);
  } catch {
    // a PowerCut thrown from a storage call outside the meter's guards (its constructor)
  }
  return { world: w, creditPayload };
}

export interface PowerCutResult {
  steps: number;
  writes: number;
  runs: Array<{ cut: number; seq: number; importMWh: number; ctr: number; credit: number; replay: string }>;
  violations: string[];
}

export function powerCutScenario(): PowerCutResult {
  const reference = cutScript(new FakeStorage());
  const steps = reference.world.storage.steps;
  const writes = reference.world.storage.writes;
  reference.world.meter.stop();
  const runs: PowerCutResult['runs'] = [];
  const violations: string[] = [];
  for (let cut = 0; cut < steps; cut++) {
    const storage = new FakeStorage();
    storage.cutAfter(cut);
    const { world, creditPayload } = cutScript(storage);
    const truth = world.energy.read(world.clock.now()).importMWh;
    const published = world.publishedReadings();
    const logins = world.broker.connects.map((c) => (parseJson(c.password) as { body: { ctr: number } }).body.ctr);
    const creditSeen = published.some((r) => r.creditMWh > 0);
    // Power back: same flash, a new meter. Give it the time so credit can be judged.
    world.meter.stop();
    world.broker.dropClient(world.meter.meterId);
    let after: World;
    try {
      after = new World({ power: 0, config: { persistEveryWh: 10 } }, {
        clock: world.clock, broker: world.broker, gateway: world.gateway, storage: storage.reboot(),
      });
    } catch (e) {
      violations.push(`cut ${cut}: meter does not boot after the cut: ${(e as Error).message}`);
      continue;
    }
    const snap = after.meter.snapshot();
    const maxSeq = published.reduce((m, r) => Math.max(m, r.seq), 0);
    const maxImport = published.reduce((m, r) => Math.max(m, r.importMWh), 0);
    const maxCtr = logins.reduce((m, c) => Math.max(m, c), 0);
    if (snap.seq < maxSeq) violations.push(`cut ${cut}: seq restored to ${snap.seq} but ${maxSeq} was sent`);
    if (snap.importMWh < maxImport) violations.push(`cut ${cut}: import went backwards to ${snap.importMWh} after ${maxImport} was sent`);
    if (snap.importMWh > truth) violations.push(`cut ${cut}: import jumped to ${snap.importMWh}, only ${truth} was measured`);
    if (snap.ctr < maxCtr) violations.push(`cut ${cut}: login counter restored to ${snap.ctr} but ${maxCtr} was used`);
    if (published.length && snap.seq === 0) violations.push(`cut ${cut}: readings were sent but no sequence survived`);
    // Credit + import can only fall across a cut: no credit comes back.
    const last = published.length ? published[published.length - 1] : undefined;
    after.start();
    after.run(2000);
    const credit = after.meter.snapshot().creditMWh;
    if (last && credit + snap.importMWh > last.creditMWh + last.importMWh) {
      violations.push(`cut ${cut}: credit ${credit} + import ${snap.importMWh} exceeds ${last.creditMWh} + ${last.importMWh} sent before the cut`);
    }
    // The same token again: it must not count twice.
    let replay = 'not sent';
    if (creditPayload) {
      const before = after.meter.counters.get('E_CREDIT_REPLAY');
      after.gateway.sendCredit(after.meter.meterId, creditPayload);
      after.run(1000);
      replay = after.meter.counters.get('E_CREDIT_REPLAY') > before ? 'refused' : 'accepted';
      if (creditSeen && replay !== 'refused') violations.push(`cut ${cut}: a token that was in use before the cut was accepted again`);
    }
    runs.push({ cut, seq: snap.seq, importMWh: snap.importMWh, ctr: snap.ctr, credit, replay });
    after.meter.stop();
  }
  return { steps, writes, runs, violations };
}

// ── registers across an ordinary reboot ─────────────────────────────────

export function rebootScenario(): { before: unknown; after: unknown; afterRun: unknown; sentMax: number } {
  const w = new World({ power: 2000 }).start();
  w.run(2000);
  w.fund();
  w.run(5 * MIN + 8000);
  const s = w.meter.snapshot();
  const sentMax = w.publishedReadings().reduce((m, r) => Math.max(m, r.importMWh), 0);
  const w2 = w.reboot({ power: 500 });
  const a = w2.meter.snapshot();
  w2.start();
  w2.run(2 * MIN);
  const b = w2.meter.snapshot();
  return {
    before: { seq: s.seq, importMWh: s.importMWh },
    after: { seq: a.seq, importMWh: a.importMWh, meter: a.meter === s.meter },
    afterRun: { seq: b.seq, importMWh: b.importMWh },
    sentMax,
  };
}

// ── outbox: order, no loss, no duplicate across reconnects ─────────────

export function outboxScenario(): Record<string, unknown> {
  const w = new World({ power: 1000, config: { backoff: { baseMs: 2000, capMs: 8000, stableMs: 30_000 } } }).start();
  w.run(3 * MIN + 5000); // readings 1–3, acknowledged
  const acked = w.meter.snapshot().outbox;
  w.gateway.acks = false;
  w.run(2 * MIN); // readings 4–5 stored but not acknowledged
  const unacked = w.meter.snapshot().outbox;
  w.broker.down();
  w.run(3 * MIN); // readings 6–8 while the broker is down
  const whileDown = w.meter.snapshot().outbox;
  w.gateway.acks = true;
  w.broker.restart();
  w.run(20_000);
  const afterReconnect = w.meter.snapshot().outbox;
  // A reading stored, then the connection drops before its Ack arrives.
  w.gateway.acks = false;
  w.run(MIN - 20_000 + 1000); // reading 9
  w.broker.dropClient(w.meter.meterId);
  w.gateway.acks = true;
  w.run(20_000);
  const counts: Record<string, number> = {};
  for (const s of w.gateway.received) counts[s] = (counts[s] ?? 0) + 1;
  return {
    acked,
    unacked,
    whileDown,
    afterReconnect,
    end: w.meter.snapshot().outbox,
    received: w.gateway.received,
    stored: w.gateway.stored,
    counts,
    badSignatures: w.gateway.badSignatures,
  };
}

/** A long outage with a small outbox: the oldest readings go, the registers do not. */
export function outboxBoundScenario(): Record<string, unknown> {
  const w = new World({ power: 1200, config: { outboxMax: 4, backoff: { baseMs: 1000, capMs: 4000, stableMs: 30_000 } } }).start();
  w.run(2000);
  w.fund();
  w.run(MIN + 3000);
  w.broker.down();
  w.run(7 * MIN);
  const during = w.meter.snapshot();
  w.broker.restart();
  w.run(15_000);
  const last = w.gateway.readings.get(w.gateway.highest());
  return {
    outboxDuring: during.outbox,
    dropped: during.outboxDropped,
    stored: w.gateway.stored,
    lastImportMWh: last?.importMWh ?? -1,
    meterImportMWh: w.meter.snapshot().importMWh,
  };
}

// ── credit: windows, order of charging, expiry ─────────────────────────

export function creditScenario(): Record<string, unknown> {
  const w = new World({ power: 1200 }).start(); // 1.2 kW = 20 Wh a minute
  w.run(5000);
  const id = w.meter.meterId;
  const g = w.gateway;
  // A: 30 Wh from T0+1 min to T0+10 min: closes at 1 min, runs out after 90 s.
  g.sendCredit(id, g.token(id, { energyMWh: 30_000, validFrom: T0 + MIN, validUntil: T0 + 10 * MIN, nonce: nonce(0xa) }));
  w.run(5 * MIN);
  // B: 100 Wh for one minute only, from T0+6 min: the window ends with 80 Wh unused.
  g.sendCredit(id, g.token(id, { energyMWh: 100_000, validFrom: T0 + 6 * MIN, validUntil: T0 + 7 * MIN, nonce: nonce(0xb) }));
  w.run(3 * MIN);
  // C (ends later) and D (ends first), both valid now: D pays first.
  const now = w.clock.now();
  g.sendCredit(id, g.token(id, { energyMWh: 50_000, validFrom: now, validUntil: now + 30 * MIN, nonce: nonce(0xc) }));
  g.sendCredit(id, g.token(id, { energyMWh: 10_000, validFrom: now, validUntil: now + 20 * MIN, nonce: nonce(0xd) }));
  w.run(MIN);
  const midway = w.meter.snapshot();
  w.run(3 * MIN);
  const end = w.meter.snapshot();
  return {
    relay: w.relayLog.map((e) => ({ at: e.t - T0, closed: e.closed })),
    readings: w.publishedReadings().map((r) => ({ seq: r.seq, at: r.t - T0, relay: r.relay, creditMWh: r.creditMWh, importMWh: r.importMWh })),
    midway: { creditMWh: midway.creditMWh, tokens: midway.tokens, importMWh: midway.importMWh },
    end: { creditMWh: end.creditMWh, tokens: end.tokens, importMWh: end.importMWh, relay: end.relay },
    errors: end.errors,
  };
}

// ── refusals: replay, wrong meter, bad issuer, bad signature, expiry, junk ───

export function refusalScenario(): Record<string, unknown> {
  const w = new World({ power: 600 }).start();
  w.run(5000);
  const id = w.meter.meterId;
  const g = w.gateway;
  const good = g.token(id, { energyMWh: 50_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(1) });
  const sent: Array<[string, string]> = [
    ['good', good],
    ['replay', good],
    ['other meter', g.token('0'.repeat(32), { energyMWh: 50_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(2) })],
    ['other grid', canonicalize(signBody({ type: 'CreditToken', grid: 'othergrid', meter: id, energyMWh: 50_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(3), issuer: AUTHORITY.keyId }, AUTHORITY.secretKey))],
    ['stranger issuer', g.token(id, { energyMWh: 50_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(4) }, STRANGER)],
    ['forged signature', canonicalize(signBody({ type: 'CreditToken', grid: GRID, meter: id, energyMWh: 50_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(5), issuer: AUTHORITY.keyId }, STRANGER.secretKey))],
    ['expired', g.token(id, { energyMWh: 50_000, validFrom: T0 - 120 * MIN, validUntil: T0 - 60 * MIN, nonce: nonce(6) })],
    ['empty window', g.token(id, { energyMWh: 50_000, validFrom: T0 + 60 * MIN, validUntil: T0 + 60 * MIN, nonce: nonce(7) })],
    ['not json', '{"body":'],
    ['unknown field', good.replace('"energyMWh"', '"bonus":1,"energyMWh"')],
    ['float', good.replace('"energyMWh":50000', '"energyMWh":50000.5')],
    ['too large', 'x'.repeat(3000)],
  ];
  const outcome: Record<string, string> = {};
  for (const [name, payload] of sent) {
    const before = w.meter.counters.snapshot();
    const tokensBefore = w.meter.snapshot().tokens;
    g.sendCredit(id, payload);
    w.run(1000);
    const afterCounts = w.meter.counters.snapshot();
    const code = Object.keys(afterCounts).find((k) => afterCounts[k] !== (before[k] ?? 0));
    outcome[name] = code ?? (w.meter.snapshot().tokens > tokensBefore ? 'accepted' : 'nothing');
  }
  const beforeReboot = w.meter.snapshot();
  // Junk on the other subscribed topics: refused, nothing changes, the meter carries on.
  const countsBefore = w.meter.counters.snapshot();
  w.broker.publish(topics.meter(GRID, id, 'ack'), '{"type":"Ack","meter":"' + '1'.repeat(32) + '","seq":99,"t":1}');
  w.broker.publish(topics.meter(GRID, id, 'time'), '{"type":"Time","t":-5}');
  w.broker.publish(topics.meter(GRID, id, 'enrolment'), g.enrolmentFor(id, STRANGER), true);
  w.run(1000);
  const countsAfter = w.meter.counters.snapshot();
  const junk: Record<string, number> = {};
  for (const k of Object.keys(countsAfter)) if (countsAfter[k] !== (countsBefore[k] ?? 0)) junk[k] = countsAfter[k] - (countsBefore[k] ?? 0);
  const w2 = w.reboot();
  w2.start();
  w2.run(5000);
  const beforeReplay = w2.meter.counters.get('E_CREDIT_REPLAY');
  w2.gateway.sendCredit(id, good);
  w2.run(1000);
  return {
    outcome,
    tokens: beforeReboot.tokens,
    creditMWh: beforeReboot.creditMWh,
    relay: beforeReboot.relay,
    junk,
    stillEnrolled: w.meter.snapshot().enrolled,
    afterReboot: {
      replayRefused: w2.meter.counters.get('E_CREDIT_REPLAY') === beforeReplay + 1,
      tokens: w2.meter.snapshot().tokens,
      enrolled: w2.meter.snapshot().enrolled,
    },
  };
}

// ── retained messages never switch the relay ───────────────────────────

export function retainedScenario(): Record<string, unknown> {
  const w = new World({ power: 600 }).start();
  w.run(5000);
  const id = w.meter.meterId;
  const g = w.gateway;
  // Someone manages to leave a credit token retained on the broker (the gateway never does).
  const token = g.token(id, { energyMWh: 5_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(9) });
  w.broker.publish(topics.meter(GRID, id, 'credit'), token, true);
  w.run(MIN); // 600 W uses the 5 Wh in 30 s
  const relayBefore = w.relayLog.length;
  // Reconnect three times: the retained enrolment and token come back each time.
  for (let i = 0; i < 3; i++) {
    w.broker.dropClient(id);
    w.run(30_000);
  }
  const afterReconnects = { relaySwitches: w.relayLog.length, replays: w.meter.counters.get('E_CREDIT_REPLAY') };
  // The gateway clears the retained certificate (a revocation): configuration going away, not a command.
  const before = w.meter.counters.snapshot();
  w.broker.publish(topics.meter(GRID, id, 'enrolment'), '', true);
  w.run(1000);
  return {
    relaySwitchesBefore: relayBefore,
    relaySwitchesAfter: afterReconnects.relaySwitches,
    relay: w.meter.snapshot().relay,
    replays: afterReconnects.replays,
    enrolments: w.broker.messages('/enrolment').length,
    afterClear: { sameCounts: canonicalize(w.meter.counters.snapshot()) === canonicalize(before), relaySwitches: w.relayLog.length, enrolled: w.meter.snapshot().enrolled },
  };
}

// ── power-on state ─────────────────────────────────────────────────────

export function powerOnScenario(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const relayPowerOn of ['open', 'closed'] as const) {
    const w = new World({ clockStart: 0, clockSet: false, power: 800, config: { relayPowerOn } });
    w.gateway.sendTime = false;
    w.start();
    const atBoot = w.relay.history.slice();
    w.run(3 * MIN);
    const beforeClock = w.relay.history.slice();
    w.gateway.time(w.meter.meterId, T0);
    w.run(1000);
    const afterClock = w.relay.history.slice();
    const id = w.meter.meterId;
    w.gateway.sendCredit(id, w.gateway.token(id, { energyMWh: 20_000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(0x51) }));
    w.run(1000);
    const afterCredit = w.relay.history.slice();
    out[relayPowerOn] = { atBoot, beforeClock, afterClock, afterCredit, importBeforeClock: w.meter.snapshot().importMWh > 0 };
  }
  return out;
}

// ── backoff ────────────────────────────────────────────────────────────

export function backoffScenario(): Record<string, unknown> {
  const cfg = { baseMs: 1000, capMs: 60_000, stableMs: 30_000 };
  const entropy = seededEntropy(5);
  const b = new Backoff(cfg, entropy);
  const growth: number[] = [];
  for (let i = 0; i < 10; i++) growth.push(b.next());
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) samples.push(backoffDelay(cfg, 3, i / 200));
  const extremes = [backoffDelay(cfg, 3, 0), backoffDelay(cfg, 3, 0.9999847), backoffDelay(cfg, 30, 0.5)];
  b.connectionEnded(10_000);
  const afterShort = b.next();
  b.connectionEnded(30_000);
  const afterStable = b.next();

  // The same rules driving a real session: the broker is down at boot.
  const w = new World({ power: 500, config: { backoff: { baseMs: 1000, capMs: 16_000, stableMs: 30_000 } } });
  w.broker.down();
  const attemptsAt: number[] = [];
  const original = w.broker.connect.bind(w.broker);
  w.broker.connect = (o, h) => {
    attemptsAt.push(w.clock.now() - T0);
    return original(o, h);
  };
  w.start();
  w.run(70_000);
  const whileDown = attemptsAt.slice();
  const seqWhileDown = w.meter.snapshot().seq;
  w.broker.restart();
  w.run(20_000);
  const upAfter = w.meter.sessionInfo();
  w.run(40_000); // stays up longer than stableMs
  w.broker.dropClient(w.meter.meterId);
  w.run(3000);
  const afterDrop = w.meter.sessionInfo();
  return {
    growth,
    samplesMin: Math.min(...samples),
    samplesMax: Math.max(...samples),
    distinct: samples.filter((x, i) => samples.indexOf(x) === i).length,
    extremes,
    afterShort,
    afterStable,
    whileDown,
    seqWhileDown,
    upAfter,
    afterDrop,
  };
}

// ── clock not set ──────────────────────────────────────────────────────

export function clockScenario(): Record<string, unknown> {
  const w = new World({ clockStart: 0, clockSet: false, power: 900 });
  w.gateway.sendTime = false;
  w.start();
  w.run(3 * MIN + 5000);
  const unset = w.meter.snapshot();
  const statusUnset = w.statuses().map((s) => s.clock);
  w.gateway.time(w.meter.meterId, T0);
  w.run(1000);
  const statusSet = w.statuses().map((s) => s.clock);
  w.run(2 * MIN);
  const readings1 = w.publishedReadings().map((r) => ({ seq: r.seq, t: r.t }));
  // Within 30 s: not stepped. Ten minutes off: stepped (and the next reading says so).
  const wallBefore = w.meter.snapshot().time ?? 0;
  w.gateway.time(w.meter.meterId, wallBefore + 20_000);
  w.run(1000);
  const notStepped = (w.meter.snapshot().time ?? 0) - wallBefore;
  w.run(MIN - 1000);
  w.gateway.acks = false;
  w.run(MIN);
  const beforeStep = w.meter.snapshot().outbox;
  w.gateway.time(w.meter.meterId, T0 - 10 * MIN);
  w.run(1000);
  const afterStep = w.meter.snapshot().outbox;
  w.gateway.acks = true;
  w.run(MIN);
  const readings2 = w.publishedReadings().map((r) => ({ seq: r.seq, t: r.t }));
  return {
    unset: { seq: unset.seq, outbox: unset.outbox, clock: unset.clock, imported: unset.importMWh > 0 },
    statusUnset,
    statusSet,
    readings1,
    notStepped,
    beforeStep,
    afterStep,
    readings2,
  };
}

// ── enrolment ──────────────────────────────────────────────────────────

export function enrolmentScenario(): Record<string, unknown> {
  const w = new World({ power: 500, enrolOnHello: false });
  const subs: string[][] = [];
  const original = w.broker.connect.bind(w.broker);
  w.broker.connect = (o, h) => {
    const c = original(o, h);
    const list: string[] = [];
    subs.push(list);
    const sub = c.subscribe.bind(c);
    c.subscribe = (topic) => {
      list.push(topic.slice(topic.lastIndexOf('/') + 1));
      sub(topic);
    };
    return c;
  };
  w.start();
  w.run(2 * MIN + 5000);
  const pending = { readingsSent: w.publishedReadings().length, outbox: w.meter.snapshot().outbox, hellos: w.gateway.hellos };
  // No key configured: the first valid certificate pins its authority (docs/protocol.md §4, "Enrolment").
  w.gateway.enrol(w.meter.meterId, AUTHORITY);
  w.run(5000);
  const enrolled = w.meter.snapshot();
  // A different certificate signed by another key is refused; the pinned key stays.
  w.gateway.enrol(w.meter.meterId, STRANGER);
  w.run(1000);
  w.run(MIN);
  const token = w.gateway.token(w.meter.meterId, { energyMWh: 1000, validFrom: T0, validUntil: T0 + 60 * MIN, nonce: nonce(0xe) }, STRANGER);
  w.gateway.sendCredit(w.meter.meterId, token);
  w.run(1000);

  // A meter configured with the authority key refuses any other key, even first.
  const k = new World({ power: 500, enrolOnHello: false, seed: 2, config: { authorityKey: AUTHORITY.publicKey } }).start();
  k.run(5000);
  k.gateway.enrol(k.meter.meterId, STRANGER);
  k.run(1000);
  const configuredAfterStranger = k.meter.snapshot().enrolled;
  k.gateway.enrol(k.meter.meterId, AUTHORITY);
  k.run(1000);
  return {
    pending,
    subscriptions: subs,
    enrolled: enrolled.enrolled,
    outboxAfterEnrolment: w.meter.snapshot().outbox,
    stored: w.gateway.stored,
    errors: w.meter.counters.snapshot(),
    hellos: w.gateway.hellos,
    configured: { afterStranger: configuredAfterStranger, afterAuthority: k.meter.snapshot().enrolled, errors: k.meter.counters.snapshot() },
  };
}

// ── S0 decoding and small pieces ───────────────────────────────────────

export function s0Scenario(): Record<string, unknown> {
  const c = new PulseCounter(1000, 20, 0);
  const edges: Array<[number, number]> = [];
  let t = 0;
  // Ten clean 40 ms pulses every 1 s, each with 3 ms of chatter at both ends.
  for (let i = 0; i < 10; i++) {
    edges.push([0, t], [1, t + 1], [0, t + 3], [1, t + 40], [0, t + 41], [1, t + 43]);
    t += 1000;
  }
  for (const [level, at] of edges) c.edge(level, at);
  const odd = new PulseCounter(3, 20, 0);
  for (let i = 0; i < 7; i++) odd.count(i * 1000);
  const cut = new PulseCounter(800, 20, 1);
  cut.edge(1, 0);
  cut.edge(0, 40);
  cut.edge(1, 50); // idle only 10 ms: chatter
  cut.edge(0, 90);
  cut.edge(1, 200);
  return {
    pulses: c.pulses,
    rejected: c.rejected,
    mWh: c.mWh,
    powerAt: [c.powerW(9000), c.powerW(9500), c.powerW(12_000), c.powerW(9000 + 4_000_000)],
    odd: odd.mWh,
    activeHigh: { pulses: cut.pulses, mWh: cut.mWh },
  };
}

export function piecesScenario(): Record<string, unknown> {
  const o = new Outbox(3);
  for (let s = 1; s <= 5; s++) o.push({ seq: s, t: s * 1000, payload: 'r' + s });
  const afterPush = o.seqs();
  const first = o.takeUnsent(2).map((e) => e.seq);
  const second = o.takeUnsent(2).map((e) => e.seq);
  o.ack(3);
  o.rewind();
  const resend = o.takeUnsent(10).map((e) => e.seq);
  const wallet = new Wallet();
  wallet.add({ nonce: nonce(3), energyMWh: 10, remainingMWh: 10, validFrom: 0, validUntil: 300 });
  wallet.add({ nonce: nonce(1), energyMWh: 10, remainingMWh: 10, validFrom: 100, validUntil: 200 });
  wallet.add({ nonce: nonce(2), energyMWh: 10, remainingMWh: 10, validFrom: 0, validUntil: 200 });
  const uncovered = wallet.consume(25, 150, 0);
  const encoded = wallet.encode(12345);
  const decoded = Wallet.decode(encoded);
  const state = { seq: 7, ctr: 3, importMWh: 9007199254740991, exportMWh: 4294967296, lastT: T0, ackSeq: 0 };
  return {
    afterPush,
    dropped: o.dropped,
    first,
    second,
    resend,
    wallet: wallet.list(),
    uncovered,
    nextBoundary: [wallet.nextBoundary(150), wallet.nextBoundary(250), wallet.nextBoundary(300)],
    walletRoundTrip: canonicalize(decoded.wallet.list()) === canonicalize(wallet.list()) && decoded.atImportMWh === 12345,
    stateRoundTrip: canonicalize(decodeState(encodeState(state))) === canonicalize(state),
    crc: crc32(utf8Encode('123456789')).toString(16),
  };
}

// ── the outbox in flash: an outage, then a power cut, then the gateway back ──

export function outboxFlashScenario(): Record<string, unknown> {
  const w = new World({ power: 1200, config: { backoff: { baseMs: 1000, capMs: 4000, stableMs: 30_000 } } }).start();
  w.run(2000);
  w.fund();
  w.run(2 * MIN + 3000); // readings 1–2, acknowledged
  const writesOnline = w.storage.keys().filter((k) => k.includes('/ob')).length;
  w.broker.down();
  w.run(5 * MIN); // readings 3–7 while the gateway is away
  const ringDuring = w.storage.keys().filter((k) => k.includes('/ob'));
  const madeOffline = w.meter.snapshot().seq;
  const w2 = w.reboot(); // a power cut: the RAM outbox is gone
  const restoredOutbox = w2.meter.snapshot().outbox;
  w2.broker.restart();
  w2.start();
  w2.run(20_000);
  const counts: Record<string, number> = {};
  for (const seq of w2.gateway.received) counts[seq] = (counts[seq] ?? 0) + 1;
  return {
    writesOnline,
    ringDuring,
    madeOffline,
    restoredOutbox,
    stored: w2.gateway.stored,
    counts,
    badSignatures: w2.gateway.badSignatures,
    end: w2.meter.snapshot().outbox,
  };
}

// ── both state slots damaged: say so, hold the relay, restore from the gateway ──

export function stateLostScenario(): Record<string, unknown> {
  const w = new World({ power: 1500 }).start();
  w.run(2000);
  w.fund();
  w.run(4 * MIN + 3000);
  const storedBefore = w.gateway.readings.get(w.gateway.highest())!;
  const w1 = w.reboot();
  w1.meter.stop();
  w1.storage.damage('helios', 'state0');
  w1.storage.damage('helios', 'state1');
  w1.storage.dead = false;
  const w2 = new World({ power: 1500 }, { clock: w.clock, broker: w.broker, gateway: w.gateway, storage: w1.storage.reboot() });
  const atBoot = w2.meter.snapshot();
  const logs = w2.logs.filter((l) => l.includes('E_STATE_LOST'));
  w2.gateway.restores = 0;
  w2.start();
  const statusLost = () => w2.statuses().filter((st) => st.fault === 'E_STATE_LOST').length;
  w2.run(3000);
  const restored = w2.meter.snapshot();
  w2.run(2 * MIN);
  const after = w2.meter.snapshot();
  const next = w2.publishedReadings().filter((r) => r.seq > storedBefore.seq);
  return {
    atBoot: { restoring: atBoot.restoring, fault: atBoot.fault, relay: atBoot.relay, seq: atBoot.seq, importMWh: atBoot.importMWh },
    logs: logs.map((l) => l.slice(0, 40)),
    statusWithFault: statusLost() > 0,
    restores: w2.gateway.restores,
    restoreLogins: w2.gateway.restoreLogins,
    restored: { restoring: restored.restoring, fault: restored.fault, seq: restored.seq, ctrAbove: restored.ctr > 1000 },
    storedBefore: { seq: storedBefore.seq, importMWh: storedBefore.importMWh },
    firstAfter: next.length ? { seq: next[0].seq, importAtLeast: next[0].importMWh >= storedBefore.importMWh } : null,
    after: { relay: after.relay, restoring: after.restoring, outbox: after.outbox, errors: after.errors },
  };
}

/**
 * Both state slots lost while readings waited in the outbox ring (the gateway away):
 * the restored import register must not fall below the ring's newest reading (found
 * by test/firmware/mcsim-powercut.test.ts on the real firmware: it fell by exactly that).
 */
export function stateLostInOutageScenario(): Record<string, unknown> {
  const w = new World({ power: 1500, config: { backoff: { baseMs: 1000, capMs: 4000, stableMs: 30_000 } } }).start();
  w.run(2000);
  w.fund();
  w.run(2 * MIN + 3000);
  w.broker.down();
  w.run(4 * MIN); // readings into the ring
  const ring = w.storage.keys().filter((k) => k.includes('/ob')).length;
  // The newest reading the ring holds (the newest of all rides in the state records, lost below).
  const heldImport = Math.max(...new OutboxRing(w.storage, 'helios', 60).load().records.map((r) => r.importMWh));
  const w1 = w.reboot();
  w1.meter.stop();
  w1.storage.damage('helios', 'state0');
  w1.storage.damage('helios', 'state1');
  w1.storage.dead = false;
  const w2 = new World({ power: 1500 }, { clock: w.clock, broker: w.broker, gateway: w.gateway, storage: w1.storage.reboot() });
  w2.broker.restart();
  w2.start();
  w2.run(3000);
  const restored = w2.meter.snapshot();
  w2.run(2 * MIN);
  const stored = [...w2.gateway.readings.values()].sort((a, b) => a.seq - b.seq);
  return {
    ring,
    heldImport,
    restoredImport: restored.importMWh,
    restoring: restored.restoring,
    lowerThanBefore: stored.filter((r, i) => i > 0 && r.importMWh < stored[i - 1].importMWh).map((r) => r.seq),
    storedAfter: stored.filter((r) => r.importMWh >= heldImport).length,
  };
}

/** Every scenario, by name: what xs-entry.ts runs inside XS. */
export const scenarios: Record<string, () => unknown> = {
  pieces: piecesScenario,
  s0: s0Scenario,
  reboot: rebootScenario,
  outbox: outboxScenario,
  outboxBound: outboxBoundScenario,
  credit: creditScenario,
  refusal: refusalScenario,
  retained: retainedScenario,
  powerOn: powerOnScenario,
  backoff: backoffScenario,
  clock: clockScenario,
  enrolment: enrolmentScenario,
  powerCut: powerCutScenario,
  outboxFlash: outboxFlashScenario,
  stateLost: stateLostScenario,
};
