/**
 * The readings pipeline (docs/protocol.md §4, "Delivery"):
 *   validate → verify the signature (worker threads) → check enrolment and
 *   sequence → store in batches, one SQLite transaction each → only then
 *   acknowledge → the next block commits the batch through its readingsRoot.
 *
 * Readings are decided strictly in arrival order (one queue), so a resend of
 * 5, 6, 7 after a reconnect can never be stored as 6, then 5-as-duplicate.
 * A duplicate (seq already stored) is not stored again but acknowledged again;
 * a jump in seq is stored and the gap recorded.
 */
import { decodeSigned, isHeliosError, MAX_METER_MESSAGE_BYTES, ReadingBody, signed, type Clock, type Genesis } from '../../protocol/index.ts';
import type { BatchVerifier } from '../crypto/batchVerifier.ts';
import { keys, type MeterEntry } from '../ledger/entities.ts';
import type { StateReader } from '../ledger/state.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Gap, MeteringStore, MeterPosition, StoredReading } from './store.ts';

const SignedReading = signed(ReadingBody);

/** A reading dated more than this ahead of the gateway's clock is refused. */
export const MAX_READING_FUTURE_MS = 5 * 60_000;

export type Verdict = { ok: true; seq: number } | { ok: false; code: string; message: string };

export interface PipelineDeps {
  genesis: Genesis;
  state: StateReader;
  store: MeteringStore;
  verifier: BatchVerifier;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  /** Tell a meter the highest sequence stored durably. */
  sendAck(meter: string, seq: number): void;
  /** Send a meter the gateway's time (after refusing its timestamp). */
  sendTime(meter: string): void;
  /** Called for each reading once it is stored. */
  onStored?(r: StoredReading): void;
  /** Most readings per SQLite transaction, and how long a batch may wait (real ms). */
  maxBatch?: number;
  maxWaitMs?: number;
}

interface Entry {
  meter: string;
  body: ReadingBody;
  envelope: string;
  receivedAt: number;
  receivedHr: bigint;
  ok?: boolean;
  resolve(v: Verdict): void;
}

class Refusal {
  constructor(readonly code: string, readonly message: string) {}
}

export class ReadingsPipeline {
  private readonly d: PipelineDeps;
  /** Highest stored reading per meter. */
  private readonly stored: Map<string, MeterPosition>;
  /** Highest accepted reading per meter, stored or waiting in the batch. */
  private readonly accepted = new Map<string, MeterPosition>();
  /** Readings waiting for their verdict, oldest first, from `head` on (shift() is O(n) on a long array). */
  private queue: Entry[] = [];
  private head = 0;
  private batch: Array<{ row: StoredReading; hr: bigint }> = [];
  private gaps: Gap[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly lastLogged = new Map<string, number>();
  private closed = false;

  constructor(d: PipelineDeps) {
    this.d = d;
    this.stored = d.store.positions();
    this.maxBatch = d.maxBatch ?? 2000;
    this.maxWaitMs = d.maxWaitMs ?? 20;
  }

  /** Highest durably stored sequence of a meter (0 when none). */
  storedSeq(meter: string): number {
    return this.stored.get(meter)?.seq ?? 0;
  }

  /**
   * Take one reading published on meter `topicMeter`'s reading topic. Resolves
   * with the verdict once it is decided (before it is durable: the Ack says that).
   */
  ingest(topicMeter: string, payload: Uint8Array): Promise<Verdict> {
    const receivedAt = this.d.clock.now();
    const receivedHr = process.hrtime.bigint();
    let body: ReadingBody;
    let envelope: string;
    try {
      const r = decodeSigned(payload, SignedReading, MAX_METER_MESSAGE_BYTES);
      body = r.body;
      envelope = r.envelopeText;
      this.precheck(topicMeter, body, receivedAt);
      const meter = this.d.state.get<MeterEntry>(keys.meter(body.meter))!;
      return new Promise<Verdict>((resolve) => {
        const entry: Entry = { meter: body.meter, body, envelope, receivedAt, receivedHr, resolve };
        this.queue.push(entry);
        this.d.verifier.verify({ publicKey: meter.publicKey, message: r.bodyBytes, sig: r.sig }).then(
          (ok) => this.verified(entry, ok),
          () => this.verified(entry, false),
        );
      });
    } catch (e) {
      if (e instanceof Refusal) return Promise.resolve(this.refuse(topicMeter, e.code, e.message));
      if (isHeliosError(e)) return Promise.resolve(this.refuse(topicMeter, e.code, e.message));
      throw e;
    }
  }

  /** Checks that need no signature: topic, grid, enrolment, clock, an obvious duplicate. */
  private precheck(topicMeter: string, b: ReadingBody, now: number): void {
    if (b.meter !== topicMeter) throw new Refusal('E_TOPIC_MISMATCH', `reading for meter ${b.meter} was published under meter ${topicMeter}'s topic`);
    if (b.grid !== this.d.genesis.grid) throw new Refusal('E_WRONG_GRID', `reading is for grid "${b.grid}", this is "${this.d.genesis.grid}"`);
    const m = this.d.state.get<MeterEntry>(keys.meter(b.meter));
    if (!m) throw new Refusal('E_UNKNOWN_METER', `meter ${b.meter} is not enrolled; enrol it with "helios meter enroll"`);
    if (m.revoked) throw new Refusal('E_METER_REVOKED', `meter ${b.meter} was revoked (${m.revoked.reason})`);
    if (b.t > now + MAX_READING_FUTURE_MS) {
      this.d.sendTime(b.meter);
      throw new Refusal('E_FUTURE_TIMESTAMP', `reading ${b.seq} of ${b.meter} is dated ${new Date(b.t).toISOString()}, more than 5 minutes ahead of the gateway; the meter was sent the time`);
    }
  }

  private verified(entry: Entry, ok: boolean): void {
    entry.ok = ok;
    this.d.metrics.verifySeconds.observe(Number(process.hrtime.bigint() - entry.receivedHr) / 1e9);
    const q = this.queue;
    while (this.head < q.length && q[this.head].ok !== undefined) {
      const e = q[this.head];
      q[this.head++] = undefined as unknown as Entry;
      e.resolve(this.decide(e));
    }
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  /** Sequence and register rules, in arrival order, after the signature check. */
  private decide(e: Entry): Verdict {
    const b = e.body;
    if (!e.ok) return this.refuse(b.meter, 'E_BAD_SIGNATURE', `reading ${b.seq} of meter ${b.meter} does not verify with its enrolled key; it was altered or not made by that meter`);
    const m = this.d.state.get<MeterEntry>(keys.meter(b.meter));
    if (!m || m.revoked) return this.refuse(b.meter, m ? 'E_METER_REVOKED' : 'E_UNKNOWN_METER', `meter ${b.meter} is no longer enrolled`);
    const last = this.accepted.get(b.meter) ?? this.stored.get(b.meter);
    if (last && b.seq <= last.seq) {
      // A resend: already stored (or about to be). Acknowledge again if it is durable.
      const stored = this.storedSeq(b.meter);
      if (b.seq <= stored) this.d.sendAck(b.meter, stored);
      return this.refuse(b.meter, 'E_DUPLICATE_READING', `reading ${b.seq} of meter ${b.meter} is already stored (up to ${last.seq}); acknowledged again`, true);
    }
    if (last && (b.importMWh < last.importMWh || b.exportMWh < last.exportMWh)) {
      return this.refuse(b.meter, 'E_REGISTER_DECREASED', `reading ${b.seq} of meter ${b.meter} has registers below reading ${last.seq} (import ${b.importMWh} < ${last.importMWh} or export ${b.exportMWh} < ${last.exportMWh} mWh); cumulative registers never go backwards`);
    }
    if (last && b.seq > last.seq + 1) {
      this.gaps.push({ meter: b.meter, afterSeq: last.seq, nextSeq: b.seq, detectedAt: e.receivedAt });
      this.d.log.info('reading gap', { meter: b.meter, afterSeq: last.seq, nextSeq: b.seq });
    }
    this.accepted.set(b.meter, { seq: b.seq, t: b.t, importMWh: b.importMWh, exportMWh: b.exportMWh });
    this.batch.push({
      row: {
        meter: b.meter, seq: b.seq, t: b.t, importMWh: b.importMWh, exportMWh: b.exportMWh, powerW: b.powerW,
        relay: b.relay, creditMWh: b.creditMWh, envelope: e.envelope, receivedAt: e.receivedAt,
      },
      hr: e.receivedHr,
    });
    if (this.batch.length >= this.maxBatch) this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.maxWaitMs);
    return { ok: true, seq: b.seq };
  }

  private refuse(meter: string, code: string, message: string, quiet = false): Verdict {
    this.d.metrics.readingsRejected.inc({ code });
    // One log line per meter and code per minute: a broken meter must not flood the log.
    const key = `${meter}/${code}`;
    const now = this.d.clock.now();
    if (!quiet && (this.lastLogged.get(key) ?? -Infinity) < now - 60_000) {
      this.lastLogged.set(key, now);
      this.d.log.warn('reading refused', { meter, code, message });
    }
    return { ok: false, code, message };
  }

  /** Write the batch in one transaction; only after it commits are the meters acknowledged. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.batch.length) return;
    const batch = this.batch;
    const gaps = this.gaps;
    this.batch = [];
    this.gaps = [];
    try {
      this.d.store.insertBatch(batch.map((x) => x.row), gaps);
    } catch (e) {
      // Nothing was stored: forget these so the meters' resends are taken again.
      for (const { row } of batch) this.accepted.delete(row.meter);
      this.d.log.error('storing readings failed; they will be taken again when the meters resend', { error: String(e), readings: batch.length });
      return;
    }
    this.d.metrics.batchSize.observe(batch.length);
    this.d.metrics.readingsAccepted.inc(batch.length);
    const highest = new Map<string, number>();
    for (const { row } of batch) {
      const prev = this.stored.get(row.meter);
      if (!prev || row.seq > prev.seq) this.stored.set(row.meter, { seq: row.seq, t: row.t, importMWh: row.importMWh, exportMWh: row.exportMWh });
      highest.set(row.meter, Math.max(highest.get(row.meter) ?? 0, row.seq));
      this.d.onStored?.(row);
    }
    for (const [meter, seq] of highest) this.d.sendAck(meter, seq);
    const now = process.hrtime.bigint();
    for (const { hr } of batch) this.d.metrics.ackSeconds.observe(Number(now - hr) / 1e9);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }
}
