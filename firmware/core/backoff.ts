/**
 * Reconnect delays: exponential backoff with "equal jitter" (half fixed, half
 * random, as in the AWS Architecture Blog's "Exponential Backoff and Jitter").
 * The fixed half keeps a broker that is down from being hammered; the random
 * half spreads thousands of meters that lost the gateway at the same instant.
 * The randomness comes from the platform's entropy source, never Math.random.
 */
import type { BackoffConfig } from './config.ts';
import type { EntropySource } from './platform.ts';

/** The delay before attempt `attempt` (0-based) without jitter: base·2^attempt, capped. */
export function backoffCeiling(cfg: BackoffConfig, attempt: number): number {
  // 2^attempt overflows nothing up to attempt 40; beyond the cap it no longer matters.
  const exp = Math.min(attempt, 40);
  return Math.min(cfg.capMs, cfg.baseMs * Math.pow(2, exp));
}

/** A uniform fraction in [0, 1) from two bytes of entropy. */
export function unitFromEntropy(entropy: EntropySource): number {
  const b = entropy(2);
  return ((b[0] << 8) | b[1]) / 65536;
}

/** Delay for `attempt`: in [ceiling/2, ceiling), an integer number of ms. */
export function backoffDelay(cfg: BackoffConfig, attempt: number, unit: number): number {
  const ceiling = backoffCeiling(cfg, attempt);
  const half = Math.floor(ceiling / 2);
  return half + Math.floor(unit * (ceiling - half));
}

/** Attempt counter with the reset rule: a connection that stayed up `stableMs` starts over. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly cfg: BackoffConfig, private readonly entropy: EntropySource) {}

  /** The next delay; each call counts one more failed attempt. */
  next(): number {
    const d = backoffDelay(this.cfg, this.attempt, unitFromEntropy(this.entropy));
    this.attempt++;
    return d;
  }

  /** A connection ended after lasting `upMs`; long-lived ones reset the counter. */
  connectionEnded(upMs: number): void {
    if (upMs >= this.cfg.stableMs) this.attempt = 0;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
