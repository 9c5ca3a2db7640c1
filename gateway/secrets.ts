/**
 * Operator credentials: stored only as a scrypt hash; compared in constant time.
 *
 * scrypt is deliberately slow (~38 ms here at N = 2¹⁴), so a check must never run on
 * the thread that carries the broker, readings and blocks: it runs on libuv's thread
 * pool (async `scrypt`), one at a time, behind a short queue. Wrong guesses are
 * throttled per source address (a token bucket); a source that guesses faster than
 * that is locked out for a while — every attempt then is refused at once, without
 * hashing — which is logged and counted in /metrics. Numbers: docs/security.md.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { fail, systemClock, type Clock } from '../protocol/index.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export interface SecretHash {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  saltHex: string;
  hashHex: string;
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Made once, at `helios init` (a command, not the gateway's event loop). */
export function hashSecret(secret: string): SecretHash {
  const salt = randomBytes(16);
  const params = { N: 1 << 14, r: 8, p: 1 };
  return { name: 'scrypt', ...params, saltHex: salt.toString('hex'), hashHex: scryptSync(secret, salt, 32, params).toString('hex') };
}

export interface SecretThrottle {
  /** Wrong guesses a source may make at once… */
  burst: number;
  /** …and then one per this many ms. */
  refillMs: number;
  /** A source that guesses wrong with its allowance spent is refused this long. */
  lockoutMs: number;
  /** Checks waiting for the hashing thread; beyond this a check is refused (E_RATE_LIMIT). */
  maxQueued: number;
}

export const DEFAULT_SECRET_THROTTLE: SecretThrottle = { burst: 10, refillMs: 6_000, lockoutMs: 15 * 60_000, maxQueued: 16 };
/** Sources remembered at most (oldest forgotten first), so a spray of addresses cannot grow memory without end. */
const MAX_SOURCES = 10_000;

interface SourceState {
  tokens: number;
  at: number;
  lockedUntil: number;
}

/** Checks a secret against its hash; successful checks are remembered (by SHA-256) so repeated logins stay cheap. */
export class SecretChecker {
  private readonly ok = new Set<string>();
  private readonly sources = new Map<string, SourceState>();
  private readonly t: SecretThrottle;
  private readonly clock: Clock;
  private readonly metrics: Metrics | undefined;
  private readonly log: Logger | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Checks in flight, by fingerprint: the same secret asked many times at once (a client's parallel requests at start) is hashed once. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly hash: SecretHash, opts: { clock?: Clock; metrics?: Metrics; log?: Logger; throttle?: Partial<SecretThrottle> } = {}) {
    this.t = { ...DEFAULT_SECRET_THROTTLE, ...opts.throttle };
    this.clock = opts.clock ?? systemClock();
    this.metrics = opts.metrics;
    this.log = opts.log;
  }

  /**
   * True if `secret` is the operator secret. `source` is who is asking (a remote
   * address). Throws E_LOCKED_OUT while the source is locked out, E_RATE_LIMIT when
   * too many checks wait for the hashing thread.
   */
  async check(secret: string, source: string): Promise<boolean> {
    const fp = createHash('sha256').update(secret).digest('hex');
    // A secret already proven costs nothing to accept again, even from a locked-out source:
    // the lockout exists to stop guessing, and this is not a guess.
    if (this.ok.has(fp)) return true;
    const now = this.clock.now();
    const s = this.state(source, now);
    if (s.lockedUntil > now) {
      this.metrics?.operatorSecretRefused.inc({ code: 'E_LOCKED_OUT' });
      fail('E_LOCKED_OUT', `too many wrong operator secrets from ${source}; try again after ${new Date(s.lockedUntil).toISOString()}`);
    }
    let pending = this.inFlight.get(fp);
    if (!pending) {
      if (this.queued >= this.t.maxQueued) {
        this.metrics?.operatorSecretRefused.inc({ code: 'E_RATE_LIMIT' });
        fail('E_RATE_LIMIT', 'too many operator secret checks at once; try again in a moment');
      }
      pending = this.hashAndCompare(secret).then((good) => {
        if (good) this.ok.add(fp);
        return good;
      }).finally(() => this.inFlight.delete(fp));
      this.inFlight.set(fp, pending);
    }
    if (await pending) return true;
    this.metrics?.operatorSecretRefused.inc({ code: 'E_WRONG_SECRET' });
    this.wrong(source, this.clock.now());
    return false;
  }

  /** Sources locked out now. */
  lockedOut(): string[] {
    const now = this.clock.now();
    return [...this.sources].filter(([, s]) => s.lockedUntil > now).map(([k]) => k);
  }

  private state(source: string, now: number): SourceState {
    let s = this.sources.get(source);
    if (!s) {
      s = { tokens: this.t.burst, at: now, lockedUntil: 0 };
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
      this.sources.set(source, s);
    }
    s.tokens = Math.min(this.t.burst, s.tokens + (now - s.at) / this.t.refillMs);
    s.at = now;
    return s;
  }

  private wrong(source: string, now: number): void {
    const s = this.state(source, now);
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return;
    }
    s.lockedUntil = now + this.t.lockoutMs;
    s.tokens = 0;
    this.metrics?.operatorLockouts.inc();
    this.log?.warn('operator secret: source locked out', { code: 'E_LOCKED_OUT', source, until: new Date(s.lockedUntil).toISOString(), burst: this.t.burst, refillMs: this.t.refillMs });
  }

  /** One scrypt at a time on the thread pool: a flood of guesses uses one core at most, never the event loop. */
  private hashAndCompare(secret: string): Promise<boolean> {
    this.queued++;
    const h = this.hash;
    const run = this.running.then(() => new Promise<boolean>((resolve) => {
      scrypt(secret, Buffer.from(h.saltHex, 'hex'), 32, { N: h.N, r: h.r, p: h.p }, (err, got) => {
        resolve(!err && timingSafeEqual(got, Buffer.from(h.hashHex, 'hex')));
      });
    }));
    this.running = run.finally(() => this.queued--);
    return run;
  }
}
