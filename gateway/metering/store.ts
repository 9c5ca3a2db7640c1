/**
 * Metering tables: readings (committed to blocks through readingsRoot), gaps,
 * login counters, availability, issued credit tokens and meters waiting for
 * enrolment. Readings are written in batches, each in one SQLite transaction.
 */
import type { DB } from '../store/db.ts';

export interface StoredReading {
  meter: string;
  seq: number;
  t: number;
  importMWh: number;
  exportMWh: number;
  powerW: number;
  relay: string;
  creditMWh: number;
  /** Canonical signed envelope, as committed. */
  envelope: string;
  receivedAt: number;
}

export interface MeterPosition {
  seq: number;
  t: number;
  importMWh: number;
  exportMWh: number;
}

export interface Gap {
  meter: string;
  afterSeq: number;
  nextSeq: number;
  detectedAt: number;
}

export interface MeterStatusRow {
  meter: string;
  state: 'online' | 'offline';
  relay: string | null;
  fw: string | null;
  clock: string | null;
  /** A storage fault the meter reports in its Status (E_STATE_LOST, E_KEY_LOST), null when none. */
  fault: string | null;
  lastSeen: number;
  since: number;
}

export class MeteringStore {
  private readonly q;
  /**
   * Login counters and availability change on every connection; a storm of 10,000
   * reconnects must not cost 20,000 fsyncs. They are written behind, in one
   * transaction per flush (every few ms). A counter waiting to be written is still
   * what later logins are checked against.
   */
  private readonly pendingCtr = new Map<string, number>();
  /** The Login token behind each pending counter (what a meter's Restore hands back). */
  private readonly pendingToken = new Map<string, string>();
  private readonly pendingStatus = new Map<string, MeterStatusRow>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** Logins waiting for their counters to be durable; all of one event-loop turn share one SQLite transaction. */
  private ctrWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private ctrFlush: NodeJS.Immediate | undefined;
  private readonly helloTtlMs: number;
  private readonly now: () => number;

  constructor(readonly db: DB, private readonly writeBehindMs = 50, hellos: { helloTtlMs?: number; now?: () => number } = {}) {
    this.helloTtlMs = hellos.helloTtlMs ?? 60 * 60_000;
    this.now = hellos.now ?? Date.now;
    this.q = {
      // Every figure (meter, seq, t, registers, power, relay, credit) is a generated column of the signed envelope.
      insertReading: db.prepare(`INSERT INTO readings (envelope, received_at) VALUES (?, ?)`),
      insertGap: db.prepare(`INSERT INTO reading_gaps (meter, after_seq, next_seq, detected_at) VALUES (?, ?, ?, ?)`),
      positions: db.prepare(`SELECT meter, max(seq) AS seq, t, import_mwh AS importMWh, export_mwh AS exportMWh FROM readings GROUP BY meter`),
      last: db.prepare(`SELECT meter, seq, t, import_mwh AS importMWh, export_mwh AS exportMWh, power_w AS powerW, relay, credit_mwh AS creditMWh, envelope, received_at AS receivedAt, block_height AS blockHeight FROM readings WHERE meter = ? ORDER BY seq DESC LIMIT 1`),
      between: db.prepare(`SELECT seq, t, import_mwh AS importMWh, export_mwh AS exportMWh, power_w AS powerW, relay, credit_mwh AS creditMWh, block_height AS blockHeight, envelope FROM readings WHERE meter = ? AND t >= ? AND t < ? ORDER BY t, seq LIMIT ?`),
      atOrBefore: db.prepare(`SELECT t, import_mwh AS importMWh, export_mwh AS exportMWh FROM readings WHERE meter = ? AND t <= ? ORDER BY t DESC, seq DESC LIMIT 1`),
      firstAfter: db.prepare(`SELECT t, import_mwh AS importMWh, export_mwh AS exportMWh FROM readings WHERE meter = ? AND t > ? ORDER BY t, seq LIMIT 1`),
      gaps: db.prepare(`SELECT meter, after_seq AS afterSeq, next_seq AS nextSeq, detected_at AS detectedAt FROM reading_gaps WHERE meter = ? ORDER BY detected_at`),
      countOf: db.prepare(`SELECT count(*) AS n FROM readings WHERE meter = ?`),
      getCtr: db.prepare(`SELECT ctr FROM login_counters WHERE id = ?`),
      getToken: db.prepare(`SELECT token FROM login_counters WHERE id = ?`),
      setCtr: db.prepare(`INSERT INTO login_counters (id, ctr, token) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET ctr = excluded.ctr, token = coalesce(excluded.token, login_counters.token) WHERE excluded.ctr > login_counters.ctr`),
      upsertStatus: db.prepare(`INSERT INTO meter_status (meter, state, relay, fw, clock, fault, last_seen, since) VALUES (@meter, @state, @relay, @fw, @clock, @fault, @lastSeen, @since)
        ON CONFLICT (meter) DO UPDATE SET state = excluded.state, relay = coalesce(excluded.relay, meter_status.relay), fw = coalesce(excluded.fw, meter_status.fw),
        clock = coalesce(excluded.clock, meter_status.clock), fault = excluded.fault, last_seen = max(excluded.last_seen, meter_status.last_seen),
        since = CASE WHEN meter_status.state = excluded.state THEN meter_status.since ELSE excluded.since END`),
      statuses: db.prepare(`SELECT meter, state, relay, fw, clock, fault, last_seen AS lastSeen, since FROM meter_status`),
      insertCredit: db.prepare(`INSERT OR IGNORE INTO credits (nonce, token, issued_at) VALUES (?, ?, ?)`),
      creditsValid: db.prepare(`SELECT token FROM credits WHERE meter = ? AND valid_until > ? ORDER BY valid_until`),
      creditsOf: db.prepare(`SELECT nonce, energy_mwh AS energyMWh, valid_from AS validFrom, valid_until AS validUntil, ref, issued_at AS issuedAt FROM credits WHERE meter = ? ORDER BY issued_at DESC LIMIT ?`),
      upsertHello: db.prepare(`INSERT INTO hellos (meter, public_key, fw, first_seen, last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT (meter) DO UPDATE SET fw = excluded.fw, last_seen = excluded.last_seen`),
      hellos: db.prepare(`SELECT meter, public_key AS publicKey, fw, first_seen AS firstSeen, last_seen AS lastSeen FROM hellos WHERE last_seen >= ? ORDER BY last_seen DESC`),
      pruneHellos: db.prepare(`DELETE FROM hellos WHERE last_seen < ?`),
    };
  }

  /** The newest stored reading of every meter (to continue sequence checks after a restart). */
  positions(): Map<string, MeterPosition> {
    const out = new Map<string, MeterPosition>();
    for (const r of this.q.positions.all() as Array<MeterPosition & { meter: string }>) {
      out.set(r.meter, { seq: r.seq, t: r.t, importMWh: r.importMWh, exportMWh: r.exportMWh });
    }
    return out;
  }

  /** Store a batch of readings and the gaps found in it, atomically. */
  insertBatch(rows: StoredReading[], gaps: Gap[]): void {
    this.db.transaction(() => {
      for (const r of rows) this.q.insertReading.run(r.envelope, r.receivedAt);
      for (const g of gaps) this.q.insertGap.run(g.meter, g.afterSeq, g.nextSeq, g.detectedAt);
    })();
  }

  lastReading(meter: string) {
    return this.q.last.get(meter) as (StoredReading & { blockHeight: number | null }) | undefined;
  }

  readings(meter: string, from: number, to: number, limit = 10_000) {
    return this.q.between.all(meter, from, to, limit) as Array<Omit<StoredReading, 'meter' | 'receivedAt'> & { blockHeight: number | null }>;
  }

  readingCount(meter: string): number {
    return (this.q.countOf.get(meter) as { n: number }).n;
  }

  gaps(meter: string): Gap[] {
    return this.q.gaps.all(meter) as Gap[];
  }

  /**
   * Energy a meter imported and exported in [from, to): the register difference
   * between the newest reading at or before each end. Before a meter's first
   * reading nothing is known, so a period that starts earlier counts from its first
   * reading.
   */
  energyBetween(meter: string, from: number, to: number): { importMWh: number; exportMWh: number; readings: boolean } {
    type R = { t: number; importMWh: number; exportMWh: number };
    const end = this.q.atOrBefore.get(meter, to - 1) as R | undefined;
    if (!end) return { importMWh: 0, exportMWh: 0, readings: false };
    const start = (this.q.atOrBefore.get(meter, from - 1) as R | undefined) ?? (this.q.firstAfter.get(meter, from - 1) as R | undefined) ?? end;
    return { importMWh: Math.max(0, end.importMWh - start.importMWh), exportMWh: Math.max(0, end.exportMWh - start.exportMWh), readings: true };
  }

  loginCounter(id: string): number {
    return this.pendingCtr.get(id) ?? (this.q.getCtr.get(id) as { ctr: number } | undefined)?.ctr ?? 0;
  }

  setLoginCounter(id: string, ctr: number, token?: string): void {
    if (ctr > this.loginCounter(id)) {
      this.pendingCtr.set(id, ctr);
      if (token !== undefined) this.pendingToken.set(id, token);
    }
    this.scheduleFlush();
  }

  /** The last Login token accepted with a counter from `id`, as it was signed; undefined if none is kept. */
  loginToken(id: string): string | undefined {
    return this.pendingToken.get(id) ?? (this.q.getToken.get(id) as { token: string | null } | undefined)?.token ?? undefined;
  }

  /**
   * Record a login counter now (later logins are checked against it at once) and
   * resolve when it is committed to SQLite. Counters of logins that arrive in the same
   * event-loop turn (a verifier batch) share one transaction: a reconnect storm costs
   * one fsync per batch, not one per meter.
   */
  commitLoginCounter(id: string, ctr: number, token?: string): Promise<void> {
    if (ctr > this.loginCounter(id)) {
      this.pendingCtr.set(id, ctr);
      if (token !== undefined) this.pendingToken.set(id, token);
    }
    return new Promise((resolve, reject) => {
      this.ctrWaiters.push({ resolve, reject });
      this.ctrFlush ??= setImmediate(() => {
        this.ctrFlush = undefined;
        const waiters = this.ctrWaiters;
        this.ctrWaiters = [];
        try {
          this.flush();
        } catch (e) {
          for (const w of waiters) w.reject(e as Error);
          return;
        }
        for (const w of waiters) w.resolve();
      });
    });
  }

  saveStatus(s: MeterStatusRow): void {
    this.pendingStatus.set(s.meter, { ...s });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    // I/O batching, not domain time: a real timer, whatever clock the gateway runs on.
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.writeBehindMs);
  }

  /** Write pending counters and statuses now (also called on shutdown). */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.pendingCtr.size && !this.pendingStatus.size) return;
    const ctrs = [...this.pendingCtr].map(([id, ctr]) => [id, ctr, this.pendingToken.get(id)] as const);
    const statuses = [...this.pendingStatus.values()];
    this.db.transaction(() => {
      for (const [id, ctr, token] of ctrs) this.q.setCtr.run(id, ctr, token ?? null);
      for (const st of statuses) this.q.upsertStatus.run(st);
    })();
    for (const [id, ctr, token] of ctrs) {
      if (this.pendingCtr.get(id) !== ctr) continue;
      this.pendingCtr.delete(id);
      if (this.pendingToken.get(id) === token) this.pendingToken.delete(id);
    }
    for (const st of statuses) if (this.pendingStatus.get(st.meter) === st) this.pendingStatus.delete(st.meter);
  }

  statuses(): MeterStatusRow[] {
    return this.q.statuses.all() as MeterStatusRow[];
  }

  saveCredit(c: { nonce: string; meter: string; energyMWh: number; validFrom: number; validUntil: number; ref?: string; token: string; issuedAt: number }): boolean {
    // The other columns are generated from the signed token.
    return this.q.insertCredit.run(c.nonce, c.token, c.issuedAt).changes === 1;
  }

  validCredits(meter: string, now: number): string[] {
    return (this.q.creditsValid.all(meter, now) as Array<{ token: string }>).map((r) => r.token);
  }

  creditsOf(meter: string, limit = 50) {
    return this.q.creditsOf.all(meter, limit) as Array<{ nonce: string; energyMWh: number; validFrom: number; validUntil: number; ref: string | null; issuedAt: number }>;
  }

  saveHello(meter: string, publicKey: string, fw: string, now: number): void {
    this.q.pruneHellos.run(now - this.helloTtlMs);
    this.q.upsertHello.run(meter, publicKey, fw, now, now);
  }

  /** Meters heard saying Hello within the last helloTtlMs (a Hello not repeated expires: docs/security.md). */
  hellos() {
    return this.q.hellos.all(this.now() - this.helloTtlMs) as Array<{ meter: string; publicKey: string; fw: string; firstSeen: number; lastSeen: number }>;
  }
}
