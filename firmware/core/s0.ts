/**
 * S0 pulse inputs (DIN EN 62053-31): a DIN-rail meter closes an opto-isolated
 * switch for ≥ 30 ms per fixed quantum of energy, typically 1000 pulses per kWh.
 * With a pull-up on the input the line idles high and each pulse pulls it low.
 *
 * Debouncing in software: an edge into the active level counts as a pulse only if
 * the line had been idle for at least `debounceMs` before it. Contact or
 * optocoupler chatter at either end of a pulse produces edges a few ms apart,
 * which never follow a long enough idle period, so they are never counted. (The
 * ESP32's PCNT glitch filter tops out at about 12 µs, far too short for this.)
 *
 * Energy is kept exact in integers: each pulse is 10^6 / pulsesPerKWh mWh, which
 * need not be an integer (e.g. 800 imp/kWh = 1250 mWh, 3 imp/kWh = 333 333.3… mWh),
 * so the remainder is carried in units of 1/pulsesPerKWh mWh and never drifts.
 */
import type { EnergySample, EnergySource } from './platform.ts';

const MWH_PER_KWH = 1_000_000;
/** mWh·3600 per W·ms: P[W] = E[mWh] · 3600 / Δt[ms]. */
const MS_PER_HOUR_OVER_MWH = 3600;

export class PulseCounter {
  /** Whole mWh counted. */
  mWh = 0;
  /** Fraction of a mWh, in units of 1/pulsesPerKWh mWh. */
  private remainder = 0;
  pulses = 0;
  /** Edges refused as chatter (a diagnostic, shown in tests). */
  rejected = 0;
  private level: number;
  private lastEdgeMs: number | undefined;
  private lastPulseMs: number | undefined;
  private lastIntervalMs: number | undefined;

  /**
   * @param activeLevel the level of the line during a pulse (0 with a pull-up and an open-collector/optocoupler output)
   */
  constructor(readonly pulsesPerKWh: number, readonly debounceMs: number, readonly activeLevel: 0 | 1 = 0) {
    this.level = activeLevel === 0 ? 1 : 0;
  }

  /** Feed one edge: the new line level and when it was seen (monotonic ms). Returns true if a pulse was counted. */
  edge(level: number, tMs: number): boolean {
    const idleSince = this.lastEdgeMs;
    const wasIdle = this.level !== this.activeLevel;
    this.lastEdgeMs = tMs;
    if (level !== this.activeLevel) {
      this.level = level;
      return false;
    }
    this.level = level;
    const quietLongEnough = idleSince === undefined || tMs - idleSince >= this.debounceMs;
    if (!wasIdle || !quietLongEnough) {
      this.rejected++;
      return false;
    }
    this.count(tMs);
    return true;
  }

  /** Count one pulse (for inputs that are already debounced, e.g. a hardware counter). */
  count(tMs: number): void {
    this.pulses++;
    this.remainder += MWH_PER_KWH;
    const whole = Math.floor(this.remainder / this.pulsesPerKWh);
    this.mWh += whole;
    this.remainder -= whole * this.pulsesPerKWh;
    if (this.lastPulseMs !== undefined) this.lastIntervalMs = tMs - this.lastPulseMs;
    this.lastPulseMs = tMs;
  }

  /**
   * Power from the spacing of pulses, W. Between pulses the estimate can only fall:
   * if the next pulse is later than the last interval, power is at most one
   * pulse's energy over the time since the last pulse.
   */
  powerW(nowMs: number): number {
    if (this.lastPulseMs === undefined || this.lastIntervalMs === undefined) return 0;
    const since = nowMs - this.lastPulseMs;
    const interval = Math.max(this.lastIntervalMs, since, 1);
    // One hour without a pulse at 1000 imp/kWh means < 1 W: call it zero.
    if (since > 3_600_000) return 0;
    return Math.round((MWH_PER_KWH * MS_PER_HOUR_OVER_MWH) / (this.pulsesPerKWh * interval));
  }
}

/** An EnergySource over one or two S0 inputs: import, and export if the meter has a second output. */
export class S0EnergySource implements EnergySource {
  private listener: (() => void) | undefined;

  constructor(readonly importCounter: PulseCounter, readonly exportCounter?: PulseCounter) {}

  /** Feed an edge on one input; notifies the meter when a pulse was counted. */
  edge(channel: 'import' | 'export', level: number, tMs: number): void {
    const c = channel === 'import' ? this.importCounter : this.exportCounter;
    if (c && c.edge(level, tMs)) this.listener?.();
  }

  read(nowMs: number): EnergySample {
    const imp = this.importCounter;
    const exp = this.exportCounter;
    return {
      importMWh: imp.mWh,
      exportMWh: exp ? exp.mWh : 0,
      powerW: imp.powerW(nowMs) - (exp ? exp.powerW(nowMs) : 0),
    };
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }
}
