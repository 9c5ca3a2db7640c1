/** Field formats shared by every Helios message (docs/protocol.md, "Field formats"). */
import { decodePublicKey } from '../ecdsa.ts';
import { fail, ProtocolCodes } from '../errors.ts';
import { firstMatch } from '../patterns.ts';
import { int, str } from '../schema.ts';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 9999-12-31T23:59:59.999Z: timestamps beyond it are certainly wrong. */
export const MAX_TIME_MS = 253402300799999;
export const MAX_INT32 = 2147483647;

export const gridId = () => str({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9-]{0,31}$/, format: 'grid id (1–32 of a–z, 0–9, -)' });
export const keyId = () => str({ max: 32, pattern: /^[0-9a-f]{32}$/, format: 'key id (32 lowercase hex characters)' });
export const meterId = keyId;
export const hash = () => str({ max: 64, pattern: /^[0-9a-f]{64}$/, format: 'SHA-256 hash (64 lowercase hex characters)' });
export const txId = hash;
export const email = () => str({ min: 3, max: 254, pattern: /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/, format: 'email address in lowercase (the participant id)' });
/**
 * The community storage's token account (docs/market.md §5). Not an email, so it can
 * never be a household's id; only a Mint may name it, to fund the storage's purchases.
 */
export const STORAGE_ACCOUNT = 'storage';
/** A Mint recipient: a participant's email, or the storage account. */
export const mintRecipient = () => str({
  min: 3, max: 254,
  pattern: /^(?:storage|[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,})$/,
  format: 'email address in lowercase (the participant id), or "storage" (the community storage account)',
});
export const publicKey = () => str({
  max: 44,
  pattern: /^[A-Za-z0-9_-]{44}$/,
  format: 'P-256 public key (SEC1 compressed, base64url, 44 characters)',
  refine: (s, path) => {
    try {
      decodePublicKey(s);
    } catch {
      fail(ProtocolCodes.BAD_KEY, `${path || 'publicKey'} is not a valid P-256 public key (not a point on the curve)`, path);
    }
  },
});
export const signature = () => str({ max: 86, pattern: /^[A-Za-z0-9_-]{86}$/, format: 'signature (64-byte r‖s, base64url, 86 characters)' });
export const timeMs = () => int(0, MAX_TIME_MS);
/** A delivery period's start in UTC to the minute, e.g. "2026-03-21T13:00Z" (the paper's listing id: date and hour). */
export const listingId = () => str({ max: 17, pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/, format: 'listing id (delivery start, UTC, "YYYY-MM-DDTHH:MMZ")' });
/**
 * Characters that reorder or hide what a person reads (Unicode TR9 explicit
 * directional formatting: U+061C, U+200E/F, U+202A–E, U+2066–9 — the "Trojan
 * Source" characters, CVE-2021-42574) and the C1 controls. A memo or name that
 * shows one text and signs another misleads whoever reads it on a dashboard.
 */
const BIDI_OR_C1 = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const noBidi = (s: string, path: string) => {
  const m = firstMatch(BIDI_OR_C1, s);
  if (m) {
    const cp = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    fail(ProtocolCodes.BAD_FORMAT, `${path || 'text'} contains U+${cp} at position ${m.index}, a bidirectional or control character that can make the text read differently from what is signed; remove it`, path);
  }
};
export const name = (max = 80) => str({ min: 1, max, pattern: /^[^\u0000-\u001f\u007f]*$/, format: `text of 1–${max} printable characters`, refine: noBidi });
export const text = (max: number) => str({ max, pattern: /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, format: `text of up to ${max} characters`, refine: noBidi });
/** A memo on a transfer or mint: one line of printable text, no controls, no bidirectional overrides. */
export const memo = (max: number) => str({ max, pattern: /^[^\u0000-\u001f\u007f]*$/, format: `one line of up to ${max} printable characters`, refine: noBidi });

/** Energy of one offer, bid, token or purchase: 1 mWh … 1 MWh. */
export const energyMWh = () => int(1, 1_000_000_000);
/** A cumulative register: never negative, never beyond 2^53−1 mWh. */
export const registerMWh = () => int(0, MAX_SAFE);
/** A price; the grid's own cap (genesis) is checked by the ledger as E_PRICE_CAP. */
export const priceMicroHecPerKWh = () => int(0, 1_000_000_000_000);
export const amountMicroHec = () => int(1, MAX_SAFE);
export const nonce = () => int(1, MAX_SAFE);
