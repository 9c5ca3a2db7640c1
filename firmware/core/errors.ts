/**
 * What the meter refuses, and how it keeps count. Bad input — a malformed
 * message, a bad signature, a replayed credit nonce, a token for another meter —
 * is refused with a typed HeliosError (codes from docs/protocol.md §9), counted
 * here, logged, and changes nothing. Nothing a peer sends can crash the meter.
 */
import { HeliosError, isHeliosError } from '../../protocol/index.ts';

/** Codes the meter raises itself. The E_CREDIT_* codes are the meter's rows in docs/protocol.md §9. */
export const MeterCodes = {
  CREDIT_REPLAY: 'E_CREDIT_REPLAY',
  CREDIT_WRONG_METER: 'E_CREDIT_WRONG_METER',
  CREDIT_EXPIRED: 'E_CREDIT_EXPIRED',
  CREDIT_BAD_ISSUER: 'E_CREDIT_BAD_ISSUER',
  /**
   * Not in docs/protocol.md §9 yet: every live token's nonce must be kept until its
   * window ends (that is what makes replay impossible), so the wallet has a bound.
   */
  CREDIT_WALLET_FULL: 'E_CREDIT_WALLET_FULL',
  TOPIC_MISMATCH: 'E_TOPIC_MISMATCH',
  WRONG_GRID: 'E_WRONG_GRID',
  UNKNOWN_SIGNER: 'E_UNKNOWN_SIGNER',
  BAD_SIGNATURE: 'E_BAD_SIGNATURE',
  /** A write the ESP32 Preference store would refuse (name > 15, value > 4000 bytes, non-int32 number). */
  STORAGE_LIMIT: 'E_STORAGE_LIMIT',
  /** The storage layer failed a read or a write (flash error, full partition). */
  STORAGE_FAILED: 'E_STORAGE_FAILED',
  /**
   * A stored item failed its check (CRC, length, format): a write cut short on a
   * store that writes in place, or damaged flash. The message names the item.
   */
  STORAGE_CORRUPT: 'E_STORAGE_CORRUPT',
  /**
   * No valid state record (registers, sequence, login counter): the meter holds its
   * relay open and asks the gateway for its last acknowledged reading (docs/protocol.md §4, "Restore").
   */
  STATE_LOST: 'E_STATE_LOST',
  /** The meter's key is gone although it had run before: it made a new one and must be enrolled again. */
  KEY_LOST: 'E_KEY_LOST',
  /** A Restore from the gateway that the meter's own key does not vouch for, or that is for another meter. */
  RESTORE_REFUSED: 'E_RESTORE_REFUSED',
  /** The installer's configuration is missing a value or holds an impossible one. */
  BAD_CONFIG: 'E_BAD_CONFIG',
  /** An energy source reported a cumulative count lower than before (a driver reset). */
  SOURCE_RESET: 'E_SOURCE_RESET',
  /** Anything that is not a HeliosError: a bug, caught so the meter keeps metering. */
  INTERNAL: 'E_INTERNAL',
} as const;

export type LogLevel = 'info' | 'warn' | 'error';

/** Where the meter writes what it does. On a device: trace(); on Node: a callback or nothing. */
export interface Logger {
  log(level: LogLevel, message: string): void;
}

export const silentLogger: Logger = { log() {} };

/** Per-code counts of everything the meter refused or failed at (a Status or a test reads them). */
export class Counters {
  private counts: Record<string, number> = {};

  add(code: string): void {
    this.counts[code] = (this.counts[code] ?? 0) + 1;
  }

  get(code: string): number {
    return this.counts[code] ?? 0;
  }

  /** A copy with keys in sorted order, so two engines print the same JSON. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of Object.keys(this.counts).sort()) out[k] = this.counts[k];
    return out;
  }
}

/** The code of any thrown value: a HeliosError's own, E_INTERNAL for everything else. */
export function codeOf(e: unknown): string {
  return isHeliosError(e) ? e.code : MeterCodes.INTERNAL;
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export function meterError(code: string, message: string, path?: string): HeliosError {
  return new HeliosError(code, message, path);
}
