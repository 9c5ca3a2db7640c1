/**
 * Prepaid energy credit (docs/protocol.md §4, "CreditToken"; compare STS, IEC
 * 62055-41). An authority-signed token grants `energyMWh` inside a window
 * [validFrom, validUntil). Measured import is charged to the token whose window
 * ends first. The relay may be closed exactly while some token valid now has
 * credit left.
 *
 * Replay: a nonce is never accepted twice, also across reboots. The wallet keeps
 * every token — spent ones too — until its window is over; a replay of a token
 * whose window is over is refused as expired anyway, so the wallet never needs to
 * remember more than the live tokens, and that is what it persists.
 */
import {
  assertSignedBy, fail, fromHex, keyIdOf, toHex, type CreditTokenBody, type Signed, type VerifyFn,
} from '../../protocol/index.ts';
import { MeterCodes as C } from './errors.ts';
import { ByteReader, ByteWriter } from './storage.ts';

export interface CreditEntry {
  /** 32 lowercase hex characters. */
  nonce: string;
  energyMWh: number;
  remainingMWh: number;
  validFrom: number;
  validUntil: number;
}

/** Live tokens a meter holds at most (one record of 40 bytes each fits a 4000-byte preference). */
export const MAX_TOKENS = 48;

export interface TokenContext {
  grid: string;
  meter: string;
  /** Public key of the authority the meter was enrolled with; undefined before enrolment. */
  authorityKey: string | undefined;
  /** The platform's verifier, if it has one. */
  verify?: VerifyFn;
  /** Wall time if the clock is set. */
  now: number | undefined;
  /** A time the wall clock is known to be past (the last time persisted), for when it is unset. */
  notBefore: number;
}

/** Is `t` inside the token's window? */
function live(e: CreditEntry, t: number): boolean {
  return e.validFrom <= t && t < e.validUntil;
}

export class Wallet {
  /** Sorted by window end, then nonce: the charging order. */
  private tokens: CreditEntry[] = [];

  get size(): number {
    return this.tokens.length;
  }

  list(): CreditEntry[] {
    return this.tokens.map((e) => ({ ...e }));
  }

  has(nonce: string): boolean {
    for (const e of this.tokens) if (e.nonce === nonce) return true;
    return false;
  }

  add(entry: CreditEntry): void {
    this.tokens.push({ ...entry });
    this.tokens.sort((a, b) => a.validUntil - b.validUntil || (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0));
  }

  remove(nonce: string): void {
    this.tokens = this.tokens.filter((e) => e.nonce !== nonce);
  }

  /**
   * Check a signed token against the meter and the wallet, cheapest checks first,
   * the signature before anything that depends on its content being true.
   * Throws a HeliosError with the docs/protocol.md §9 code; changes nothing.
   */
  check(signed: Signed<CreditTokenBody>, ctx: TokenContext): CreditEntry {
    const b = signed.body;
    if (b.grid !== ctx.grid || b.meter !== ctx.meter) {
      fail(C.CREDIT_WRONG_METER, `credit token ${b.nonce} is for meter ${b.meter} on grid ${b.grid}; this is meter ${ctx.meter} on grid ${ctx.grid}`);
    }
    if (!ctx.authorityKey) {
      fail(C.CREDIT_BAD_ISSUER, `credit token ${b.nonce} refused: this meter is not enrolled yet, so it has no authority key to check it with`);
    }
    const authorityId = keyIdOf(ctx.authorityKey);
    if (b.issuer !== authorityId) {
      fail(C.CREDIT_BAD_ISSUER, `credit token ${b.nonce} was issued by ${b.issuer}; this meter accepts credit only from its enrolling authority ${authorityId}`);
    }
    assertSignedBy(signed, ctx.authorityKey, `credit token ${b.nonce}`, ctx.verify);
    if (b.validUntil <= b.validFrom) {
      fail(C.CREDIT_EXPIRED, `credit token ${b.nonce} has an empty window (validUntil ${b.validUntil} ≤ validFrom ${b.validFrom})`);
    }
    const t = ctx.now ?? ctx.notBefore;
    if (b.validUntil <= t) {
      fail(C.CREDIT_EXPIRED, `credit token ${b.nonce} expired at ${b.validUntil}; the meter's time is ${t}${ctx.now === undefined ? ' (at least)' : ''}`);
    }
    if (this.has(b.nonce)) fail(C.CREDIT_REPLAY, `credit token nonce ${b.nonce} was already accepted; a token counts once`);
    if (this.tokens.length >= MAX_TOKENS) {
      fail(C.CREDIT_WALLET_FULL, `credit token ${b.nonce} refused: the meter already holds ${MAX_TOKENS} live tokens; it takes more once some windows end`);
    }
    return { nonce: b.nonce, energyMWh: b.energyMWh, remainingMWh: b.energyMWh, validFrom: b.validFrom, validUntil: b.validUntil };
  }

  /** Credit usable at `now`: the remaining energy of every token whose window holds `now`. */
  available(now: number): number {
    let sum = 0;
    for (const e of this.tokens) if (live(e, now)) sum += e.remainingMWh;
    return sum;
  }

  /** Remaining energy of all tokens, whatever their windows. */
  total(): number {
    let sum = 0;
    for (const e of this.tokens) sum += e.remainingMWh;
    return sum;
  }

  /**
   * Charge `mWh` of measured import, window-end order. With the clock set only
   * tokens valid `now` pay; with it unset, any token not known to be over. Returns
   * the part no token covered (import while the relay was closed without credit).
   */
  consume(mWh: number, now: number | undefined, notBefore: number): number {
    let left = mWh;
    for (const e of this.tokens) {
      if (left <= 0) break;
      if (e.remainingMWh <= 0) continue;
      if (now !== undefined ? !live(e, now) : e.validUntil <= notBefore) continue;
      const take = Math.min(left, e.remainingMWh);
      e.remainingMWh -= take;
      left -= take;
    }
    return left;
  }

  /** Forget tokens whose window is over at `t` (their nonces can no longer be replayed: they would be expired). */
  prune(t: number): CreditEntry[] {
    const gone = this.tokens.filter((e) => e.validUntil <= t);
    if (gone.length) this.tokens = this.tokens.filter((e) => e.validUntil > t);
    return gone;
  }

  /** The next instant after `now` at which a window opens or closes; undefined if none. */
  nextBoundary(now: number): number | undefined {
    let next: number | undefined;
    for (const e of this.tokens) {
      for (const t of [e.validFrom, e.validUntil]) {
        if (t > now && (next === undefined || t < next)) next = t;
      }
    }
    return next;
  }

  /** The persisted form: tokens and the import register value they were charged up to. */
  encode(atImportMWh: number): Uint8Array {
    const w = new ByteWriter(1 + 8 + 1 + this.tokens.length * 40);
    w.u8(1).u53(atImportMWh).u8(this.tokens.length);
    for (const e of this.tokens) {
      w.bytes(fromHex(e.nonce)).u32(e.energyMWh).u32(e.remainingMWh).u53(e.validFrom).u53(e.validUntil);
    }
    return w.done();
  }

  static decode(b: Uint8Array): { wallet: Wallet; atImportMWh: number } {
    const r = new ByteReader(b);
    const version = r.u8();
    if (version !== 1) throw new RangeError(`unknown wallet record version ${version}`);
    const atImportMWh = r.u53();
    const n = r.u8();
    const wallet = new Wallet();
    for (let i = 0; i < n; i++) {
      const nonce = toHex(r.bytes(16));
      const energyMWh = r.u32();
      const remainingMWh = r.u32();
      const validFrom = r.u53();
      const validUntil = r.u53();
      wallet.add({ nonce, energyMWh, remainingMWh, validFrom, validUntil });
    }
    return { wallet, atImportMWh };
  }
}
