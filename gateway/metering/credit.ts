/**
 * Credit tokens (docs/protocol.md §4): authority-signed grants of energy a meter
 * may import inside a time window. The gateway signs, records and sends them; it
 * sends a meter all its still-valid tokens again whenever it subscribes, and the
 * meter ignores nonces it has already taken. Tokens are never retained.
 */
import { canonicalize, topics, type Clock, type CreditTokenBody, type KeyPair, type Signed } from '../../protocol/index.ts';
import { sha256Hex } from '../crypto/hash.ts';
import { signBodyFast } from '../crypto/sign.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { MeteringStore } from './store.ts';

export interface CreditRequest {
  meter: string;
  energyMWh: number;
  validFrom: number;
  validUntil: number;
  /** What paid for it (a listing id or transaction id). Together with the meter it fixes the nonce. */
  ref: string;
}

export class CreditService {
  constructor(
    private readonly grid: string,
    private readonly authority: KeyPair,
    private readonly store: MeteringStore,
    private readonly publish: (topic: string, payload: string) => void,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /**
   * The nonce is derived from what paid for the credit, so issuing the same credit
   * twice (after a restart, say) yields the same token and the meter counts it once.
   */
  static nonceFor(r: Pick<CreditRequest, 'meter' | 'ref'>): string {
    return sha256Hex(`helios-credit\n${r.meter}\n${r.ref}`).slice(0, 32);
  }

  issue(r: CreditRequest): Signed<CreditTokenBody> {
    const body: CreditTokenBody = {
      type: 'CreditToken', grid: this.grid, meter: r.meter, energyMWh: r.energyMWh,
      validFrom: r.validFrom, validUntil: r.validUntil, nonce: CreditService.nonceFor(r), issuer: this.authority.keyId, ref: r.ref,
    };
    const token = signBodyFast(body, this.authority);
    const text = canonicalize(token);
    const fresh = this.store.saveCredit({ nonce: body.nonce, meter: r.meter, energyMWh: r.energyMWh, validFrom: r.validFrom, validUntil: r.validUntil, ref: r.ref, token: text, issuedAt: this.clock.now() });
    if (fresh) {
      this.metrics.creditsIssued.inc();
      this.log.info('credit token issued', { meter: r.meter, energyMWh: r.energyMWh, validFrom: new Date(r.validFrom).toISOString(), validUntil: new Date(r.validUntil).toISOString(), ref: r.ref });
    }
    this.publish(topics.meter(this.grid, r.meter, 'credit'), text);
    return token;
  }

  /** Send a meter every token of its that is still valid (it has just subscribed). */
  resend(meter: string): number {
    const tokens = this.store.validCredits(meter, this.clock.now());
    for (const t of tokens) this.publish(topics.meter(this.grid, meter, 'credit'), t);
    return tokens.length;
  }
}
