/**
 * Metered energy of a delivery period as Settle and StorageDeposit state it: from the
 * readings committed in blocks up to a height (docs/market.md §8, "Metered figures").
 * The gateway computes the figures with this when it builds the transaction, and
 * `helios ledger verify` recomputes them with this — the same rule on the same
 * tamper-evident rows, so any difference is an error (E_METERED_MISMATCH).
 *
 * The rule (as MeteringStore.energyBetween, restricted to committed readings): the
 * energy in [from, to) is the register difference between the newest reading at or
 * before each end (to − 1 and from − 1). Before a meter's first reading nothing is
 * known, so a period that starts earlier counts from its first reading; a meter
 * with no reading before `to` metered nothing.
 */
import type { DB } from '../store/db.ts';

export interface PeriodEnergy {
  importMWh: number;
  exportMWh: number;
  /** Whether a committed reading at or after `to` exists: then no later reading can change these figures. */
  covered: boolean;
}

type Row = { importMWh: number; exportMWh: number } | undefined;

export class CommittedReadings {
  private readonly q;

  constructor(db: DB) {
    this.q = {
      atOrBefore: db.prepare(`SELECT import_mwh AS importMWh, export_mwh AS exportMWh FROM readings WHERE meter = ? AND t <= ? AND block_height IS NOT NULL AND block_height <= ? ORDER BY t DESC, seq DESC LIMIT 1`),
      firstAfter: db.prepare(`SELECT import_mwh AS importMWh, export_mwh AS exportMWh FROM readings WHERE meter = ? AND t > ? AND block_height IS NOT NULL AND block_height <= ? ORDER BY t, seq LIMIT 1`),
      covering: db.prepare(`SELECT 1 FROM readings WHERE meter = ? AND t >= ? AND block_height IS NOT NULL AND block_height <= ? LIMIT 1`),
    };
  }

  /** Energy through `meter` in [from, to) per the readings committed in blocks ≤ height. */
  energy(meter: string, from: number, to: number, height: number): PeriodEnergy {
    const covered = this.q.covering.get(meter, to, height) !== undefined;
    const end = this.q.atOrBefore.get(meter, to - 1, height) as Row;
    if (!end) return { importMWh: 0, exportMWh: 0, covered };
    const start = (this.q.atOrBefore.get(meter, from - 1, height) as Row) ?? (this.q.firstAfter.get(meter, from - 1, height) as Row) ?? end;
    return { importMWh: Math.max(0, end.importMWh - start.importMWh), exportMWh: Math.max(0, end.exportMWh - start.exportMWh), covered };
  }
}
