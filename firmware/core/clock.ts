/**
 * The meter's wall clock. An ESP32 boots at 1970 and learns the time from SNTP or
 * from the gateway's Time message (docs/protocol.md §4); until then its clock is
 * "unset": it sends no readings (a reading's `t` must be true), its Status says
 * `clock: "unset"`, and credit windows cannot be judged.
 *
 * Timers keep running on the base clock; the wall time is the base clock plus an
 * offset, so stepping the wall time never disturbs a running timer, and many
 * simulated meters can share one base clock while each keeps its own notion of
 * the time.
 */
import type { Clock } from './platform.ts';

/** A Time message steps a set clock only if it is this far off (docs/protocol.md §4). */
export const TIME_STEP_THRESHOLD_MS = 30_000;

export type TimeSource = 'gateway' | 'sntp';

export class MeterClock {
  private offset = 0;
  private isSetFlag: boolean;

  /**
   * @param base timers and the platform's own idea of the time
   * @param set whether the base clock already holds true time (a host with NTP, an RTC kept across a reset)
   */
  constructor(readonly base: Clock, set: boolean) {
    this.isSetFlag = set;
  }

  isSet(): boolean {
    return this.isSetFlag;
  }

  /** Wall time, ms since the epoch. Meaningful only when isSet(). */
  now(): number {
    return this.base.now() + this.offset;
  }

  /** Wall time, or undefined while the clock is unset. */
  wall(): number | undefined {
    return this.isSetFlag ? this.now() : undefined;
  }

  /**
   * Learn the time. SNTP is always taken; a gateway Time message steps the clock
   * only when it is unset or off by more than 30 s (docs/protocol.md §4).
   * Returns true when the wall time was set or stepped.
   */
  learn(timeMs: number, source: TimeSource): boolean {
    if (this.isSetFlag && source === 'gateway' && Math.abs(timeMs - this.now()) <= TIME_STEP_THRESHOLD_MS) return false;
    // Whole ms: SNTP may deliver a fraction, and every time on the wire is an integer (docs/protocol.md §1).
    this.offset = Math.round(timeMs) - Math.round(this.base.now());
    this.isSetFlag = true;
    return true;
  }
}
