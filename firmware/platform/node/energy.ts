/**
 * Simulated energy for virtual meters: a power profile integrated exactly and
 * lazily. Nothing ticks: the energy between two reads is computed when the meter
 * reads, segment by segment, so thousands of simulated meters cost nothing while
 * nobody looks. Integer arithmetic throughout — energy is accumulated in W·ms and
 * turned into whole mWh (1 mWh = 3600 W·ms) with the remainder carried, so a long
 * run never drifts.
 *
 * Pure TypeScript (no Node built-ins), so the same source also drives the fake
 * platform the core scenarios run on inside XS.
 */
import type { EnergySample, EnergySource } from '../../core/platform.ts';

/** Power at time t (ms), W: positive importing, negative exporting (PV surplus). */
export type PowerProfile = (tMs: number) => number;

const WMS_PER_MWH = 3600;

export interface ProfileEnergyOptions {
  /** Constant power (W) or a profile sampled at the start of each step. */
  power: number | PowerProfile;
  /** Profile step, ms: the profile is treated as constant within a step (default one minute). */
  stepMs?: number;
  /** Time the source starts counting, ms (the clock's now at creation). */
  startMs: number;
}

export class ProfileEnergySource implements EnergySource {
  private t: number;
  private importWms = 0;
  private exportWms = 0;
  private importMWh = 0;
  private exportMWh = 0;
  private supplied = true;
  private unmetWms = 0;
  private unmetMWhTotal = 0;
  private unmetMsTotal = 0;
  /** Unmet load counts from this time on (ms); before it nobody could have supplied the household. */
  private unmetFromMs = 0;
  private profile: PowerProfile | undefined;
  private constantW: number;
  private readonly stepMs: number;

  constructor(options: ProfileEnergyOptions) {
    this.t = options.startMs;
    this.stepMs = options.stepMs ?? 60_000;
    if (typeof options.power === 'number') {
      this.constantW = Math.round(options.power);
    } else {
      this.profile = options.power;
      this.constantW = 0;
    }
  }

  private powerAt(t: number): number {
    if (!this.supplied) return 0;
    return this.profile ? Math.round(this.profile(t)) : this.constantW;
  }

  private advance(to: number): void {
    while (this.t < to) {
      const segEnd = this.profile ? Math.min(to, (Math.floor(this.t / this.stepMs) + 1) * this.stepMs) : to;
      const p = this.powerAt(this.t);
      const wms = Math.abs(p) * (segEnd - this.t);
      if (!this.supplied && this.profile && segEnd > this.unmetFromMs) {
        // Unmet load: what the household wanted to import while its supply was cut.
        const from = Math.max(this.t, this.unmetFromMs);
        const wanted = Math.round(this.profile(this.t));
        if (wanted > 0) {
          this.unmetWms += wanted * (segEnd - from);
          const whole = Math.floor(this.unmetWms / WMS_PER_MWH);
          this.unmetMWhTotal += whole;
          this.unmetWms -= whole * WMS_PER_MWH;
          this.unmetMsTotal += segEnd - from;
        }
      }
      if (p > 0) {
        this.importWms += wms;
        const whole = Math.floor(this.importWms / WMS_PER_MWH);
        this.importMWh += whole;
        this.importWms -= whole * WMS_PER_MWH;
      } else if (p < 0) {
        this.exportWms += wms;
        const whole = Math.floor(this.exportWms / WMS_PER_MWH);
        this.exportMWh += whole;
        this.exportWms -= whole * WMS_PER_MWH;
      }
      this.t = segEnd;
    }
  }

  read(nowMs: number): EnergySample {
    this.advance(nowMs);
    return { importMWh: this.importMWh, exportMWh: this.exportMWh, powerW: this.powerAt(nowMs) };
  }

  /** Count unmet load from `fromMs` on only (a simulation's first delivery period): what was counted so far is dropped. */
  countUnmetFrom(fromMs: number): void {
    this.unmetFromMs = fromMs;
    this.unmetMWhTotal = 0;
    this.unmetMsTotal = 0;
    this.unmetWms = 0;
  }

  /** Energy the household wanted while its supply was cut (mWh), and for how long (ms), since `unmetFromMs`. */
  unmet(nowMs: number): { energyMWh: number; durationMs: number } {
    this.advance(nowMs);
    return { energyMWh: this.unmetMWhTotal, durationMs: this.unmetMsTotal };
  }

  /** The relay opened or closed: with the supply cut the household neither imports nor exports (anti-islanding). */
  setSupplied(supplied: boolean, nowMs: number): void {
    this.advance(nowMs);
    this.supplied = supplied;
  }

  /** Change a constant-power source (a test's or a demo's knob). */
  setPower(powerW: number, nowMs: number): void {
    this.advance(nowMs);
    this.profile = undefined;
    this.constantW = Math.round(powerW);
  }

  nextChangeAt(nowMs: number): number | undefined {
    if (!this.profile) return undefined;
    return (Math.floor(nowMs / this.stepMs) + 1) * this.stepMs;
  }
}
