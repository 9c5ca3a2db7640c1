/**
 * Admission of pending meters: logins that prove a fresh key, not an enrolled
 * identity (docs/protocol.md §3, "pending meter"). Anyone can make such a key, so
 * these logins get a pool of their own — small, rate-limited per source address and
 * overall, each session expiring — apart from the capacity kept for enrolled meters,
 * households, the operator and authorities, which a flood of them can never use up.
 * Sizes and rates: docs/security.md.
 */
import { fail } from '../../protocol/index.ts';
import { RateLimiter } from './limits.ts';

export interface PendingPoolLimits {
  /** Pending meters connected at once. */
  pendingMax: number;
  /** New pending logins per source address: this many at once, then one per `perSourceRefillMs`. */
  perSourceBurst: number;
  perSourceRefillMs: number;
  /** New pending logins from everywhere together: this many at once, then one per `globalRefillMs`. */
  globalBurst: number;
  globalRefillMs: number;
  /** A pending meter's session ends after this long; the meter reconnects and says Hello again. */
  sessionMs: number;
}

export const DEFAULT_PENDING_POOL: PendingPoolLimits = {
  pendingMax: 100, perSourceBurst: 5, perSourceRefillMs: 12_000, globalBurst: 60, globalRefillMs: 1_000, sessionMs: 10 * 60_000,
};

/** Rates of new pending logins; the pool's size is counted by the broker, which sees connections come and go. */
export class PendingAdmission {
  readonly limits: PendingPoolLimits;
  private readonly perSource: RateLimiter;
  private readonly global: RateLimiter;

  constructor(limits: Partial<PendingPoolLimits> = {}) {
    this.limits = { ...DEFAULT_PENDING_POOL, ...limits };
    const l = this.limits;
    this.perSource = new RateLimiter(1000 / l.perSourceRefillMs, (l.perSourceBurst * l.perSourceRefillMs) / 1000, 10_000);
    this.global = new RateLimiter(1000 / l.globalRefillMs, (l.globalBurst * l.globalRefillMs) / 1000);
  }

  /** Take one admission for `source` at `now`, or throw E_RATE_LIMIT. */
  take(source: string, now: number): void {
    if (!this.perSource.take(source, now)) fail('E_RATE_LIMIT', `too many new meters from ${source}; a pending meter may log in ${this.limits.perSourceBurst} times, then once every ${this.limits.perSourceRefillMs / 1000} s`);
    if (!this.global.take('*', now)) fail('E_RATE_LIMIT', 'too many new meters logging in at once; try again shortly');
  }
}
