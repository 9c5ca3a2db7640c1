/**
 * The meter's durable counters: the cumulative import and export registers, the
 * reading sequence number and the login counter, in one small record kept in
 * two alternating preference slots (storage.ts).
 *
 * Rules that keep registers honest across power cuts (the complaint users of
 * Tasmota and ESPHome raise most: totals lost or jumping after a cut):
 * - the record is written before any reading that carries its values is sent, so
 *   no value the gateway has seen is ever higher than what a reboot restores —
 *   registers never go backwards;
 * - after a reboot the registers continue from the record and count only energy
 *   measured since; nothing is estimated or added — they never jump;
 * - between readings the record is written at least every N Wh or M minutes, so
 *   a cut loses less than N Wh of counting (the household had no power during the
 *   cut anyway: the meter runs from the same supply).
 */
import { ByteReader, ByteWriter } from './storage.ts';

export interface MeterState {
  /** Sequence number of the last reading made (0 before the first). */
  seq: number;
  /** Login counter of the last connect attempt (docs/protocol.md §3, `ctr`). */
  ctr: number;
  importMWh: number;
  exportMWh: number;
  /** The wall time when this record was written, if the clock was set; a lower bound for the time after a reboot. */
  lastT: number;
}

export const EMPTY_STATE: MeterState = { seq: 0, ctr: 0, importMWh: 0, exportMWh: 0, lastT: 0 };

const VERSION = 1;

export function encodeState(s: MeterState): Uint8Array {
  return new ByteWriter(1 + 4 + 4 + 8 + 8 + 8)
    .u8(VERSION).u32(s.seq).u32(s.ctr).u53(s.importMWh).u53(s.exportMWh).u53(s.lastT)
    .done();
}

export function decodeState(b: Uint8Array): MeterState {
  const r = new ByteReader(b);
  const version = r.u8();
  if (version !== VERSION) throw new RangeError(`unknown meter state record version ${version}`);
  return { seq: r.u32(), ctr: r.u32(), importMWh: r.u53(), exportMWh: r.u53(), lastT: r.u53() };
}
